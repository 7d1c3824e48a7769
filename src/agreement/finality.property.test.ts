/**
 * Property: AgreementManager's finality decisions agree with the deployed contract's
 * verifyFinalityProof. Random linked runs of txs with random signer sets (real signatures),
 * confirmations delivered in random order; then for every height k:
 * - TS says "proof available" ⇔ the contract accepts the proof TS built, proving (k, stateHash);
 * - otherwise the contract rejects the best possible proof (the next A txs, all signatures);
 * - the latest final height TS reports is the highest k the contract accepts a proof for.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keccak256, toBeHex, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import { signOpenConsent } from '../chain/consent.js'
import { ParleyError } from '../errors/ParleyError.js'
import { fullBitmap, bitIndices } from '../protocol/bitmap.js'
import { packSignedTransaction, signDigest } from '../protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type PackedSignedTransaction, type Transaction } from '../protocol/types.js'
import type { ParleyHasher } from '../protocol/eip712.js'
import { MemoryStore } from '../store/MemoryStore.js'
import { Ledger, type Entry } from '../state/ledger.js'
import { ManualClock } from '../clock/ManualClock.js'
import { AgreementManager } from './AgreementManager.js'
import { SigningGuard } from './SigningGuard.js'
import { defaultTimes } from '../channel/params.js'

const N = 4
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let wallets: Wallet[]
let params: ChannelParams
let channelId: Hex
let genesisHash: Hex
let genesisTs: bigint

before(async () => {
  anvil = await startAnvil({ accounts: N + 1 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  wallets = anvil.wallets.slice(1, N + 1)
  params = {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.counter, asset: ETH,
    deposits: wallets.map(() => 0n), bond: 0n, ...defaultTimes,
    salt: keccak256('0x42') as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  const opened = await stack.manager.open(params, wallets.map((w) => signOpenConsent(w.signingKey, hasher, params)))
  channelId = opened.channelId
  genesisHash = opened.genesis.stateHash
  genesisTs = opened.genesis.timestamp
})
after(() => anvil.stop())

async function contractVerdict(proof: PackedSignedTransaction[]): Promise<{ ok: true; seq: bigint; stateHash: Hex } | { ok: false; code: string }> {
  try {
    return { ok: true, ...(await stack.manager.verifyFinalityProof(channelId, params.participants, proof)) }
  } catch (e) {
    if (e instanceof ParleyError) return { ok: false, code: e.code }
    throw e
  }
}

const runArb = fc.array(
  fc.record({ author: fc.integer({ min: 0, max: N - 1 }), others: fc.integer({ min: 0, max: (1 << N) - 1 }) }),
  { minLength: 1, maxLength: 7 },
)

test('AgreementManager finality agrees with the contract verifier', async () => {
  await fc.assert(
    fc.asyncProperty(runArb, fc.integer(), async (run, seed) => {
      const store = new MemoryStore()
      store.putChannel({ channelId, params, me: 0 })
      const fork = { fork: 0n, state: '0x' as Hex, stateHash: genesisHash, timestamp: genesisTs, active: fullBitmap(N), disputed: false }
      const ledger = new Ledger(fork, 0)
      const agreement = new AgreementManager({
        channelId, params, me: 0, store, clock: new ManualClock(1n), timing: { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, skew: 15n },
        guard: new SigningGuard(store, channelId, wallets[0]!.signingKey, 0),
      })
      agreement.setLedger(ledger)
      // a linked run of txs; the author signs, the rest confirm later in a shuffled order
      const txs: Transaction[] = []
      const pending: { seq: bigint; digest: Hex; signer: number }[] = []
      let prev = genesisHash
      for (const [i, r] of run.entries()) {
        const seq = BigInt(i + 1)
        const stateHash = keccak256(toBeHex(BigInt(seed >>> 0) * 100n + seq, 32)) as Hex
        const t: Transaction = { channelId, fork: 0n, seq, timestamp: genesisTs, actor: r.author, previousStateHash: prev, data: '0x', stateHash }
        prev = stateHash
        txs.push(t)
        const digest = hasher.transaction(t)
        const entry: Entry = {
          transaction: t, digest, state: '0x', nextActor: 0, receivedAt: 1n,
          signatures: new Map([[r.author, signDigest(wallets[r.author]!.signingKey, digest)]]), signers: 1n << BigInt(r.author),
        }
        store.putTx(channelId, entry) // as StateManager.commit does
        store.putSignature(channelId, digest, r.author, entry.signatures.get(r.author)!)
        ledger.append(entry)
        agreement.recorded(entry, { noConfirm: 'own', refusers: undefined, confirmations: new Map(), errors: [] })
        for (const s of bitIndices(BigInt(r.others))) if (s !== r.author) pending.push({ seq, digest, signer: s })
      }
      let x = seed >>> 0
      for (let i = pending.length - 1; i > 0; i--) {
        x = (x * 1103515245 + 12345) >>> 0
        const j = x % (i + 1)
        ;[pending[i], pending[j]] = [pending[j]!, pending[i]!]
      }
      for (const p of pending) {
        agreement.receiveConfirmation({ type: 'confirm', fork: 0n, seq: p.seq, digest: p.digest, signer: p.signer, signature: signDigest(wallets[p.signer]!.signingKey, p.digest) })
        store.transaction(() => agreement.writeUnsaved()) // it counts once stored (as Engine.saveUnsaved does)
        agreement.saved()
      }

      // every signature per tx, to build the best possible candidate proof for any height
      const all = txs.map((t, i) => {
        const digest = hasher.transaction(t)
        const signers = new Set([run[i]!.author, ...bitIndices(BigInt(run[i]!.others))])
        return { transaction: t, signatures: new Map([...signers].map((s) => [s, signDigest(wallets[s]!.signingKey, digest)] as [number, Hex])) }
      })
      let highestAccepted = 0n
      for (let k = 1; k <= txs.length; k++) {
        const seq = BigInt(k)
        let tsProof: PackedSignedTransaction[] | undefined
        try {
          tsProof = agreement.finalityProof(seq)
        } catch (e) {
          assert.ok(e instanceof ParleyError && ['NOT_FINAL', 'PROOF_UNAVAILABLE'].includes(e.code), String(e))
        }
        const candidate = all.slice(k - 1, k - 1 + N).map((st) => packSignedTransaction(st))
        const best = await contractVerdict(candidate)
        if (tsProof) {
          const v = await contractVerdict(tsProof)
          assert.ok(v.ok, `contract rejects the proof TS built for seq ${k}: ${!v.ok && v.code}`)
          assert.deepEqual([v.seq, v.stateHash], [seq, txs[k - 1]!.stateHash])
          assert.ok(best.ok)
          highestAccepted = seq
        } else {
          assert.ok(!best.ok, `TS finds no proof for seq ${k}, the contract accepts one`)
          assert.equal(best.code, 'PROOF_NOT_FINAL')
        }
      }
      assert.equal(ledger.final.seq, highestAccepted, 'latest final height')
    }),
    { numRuns: 30 },
  )
})
