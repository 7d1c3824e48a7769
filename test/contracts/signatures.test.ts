/**
 * Signature sets (library Signatures via verifySignatures): k-of-N thresholds, malleable and
 * malformed signatures, wrong lengths, strangers, swapped and duplicated slots, inactive
 * signers; the TS recovery rules agree with the contract; signatures do not replay across
 * managers or chains.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, Wallet, hexlify, randomBytes } from 'ethers'
import { setup, makeParams, signOpen, type Fixture } from '../helpers/fixture.js'
import { expectRevert } from '../helpers/revert.js'
import { recordArg } from '../helpers/records.js'
import { highS, join, signEach, trim, withV, withWord } from '../helpers/sigs.js'
import { deploy } from '../../src/chain/deploy.js'
import { ParleyHasher } from '../../src/protocol/eip712.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import { recoverSigner } from '../../src/protocol/signatures.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import type { ChannelParams, Hex } from '../../src/protocol/types.js'

const N = 4
let f: Fixture
let ws: Wallet[]
let params: ChannelParams
let channelId: Hex
const digest = hexlify(randomBytes(32)) as Hex
const stranger = new Wallet(hexlify(randomBytes(32)))

before(async () => {
  f = await setup(2)
  ws = Array.from({ length: N }, () => new Wallet(hexlify(randomBytes(32))))
  params = makeParams(ws, (await f.counter.getAddress()) as Hex, { deposits: ws.map(() => 0n) })
  await (await f.manager.getFunction('open')(params, signOpen(f, ws, params))).wait()
  channelId = f.hasher.channelId(params)
})
after(() => f.stop())

const verify = (signers: bigint, sigs: Hex, threshold = 1, id = channelId, parts = params.participants) =>
  f.manager.getFunction('verifySignatures')(id, parts, digest, signers, sigs, threshold) as Promise<bigint>
/** Signatures of the participants in `signers`, ascending. */
const sigsOf = (signers: bigint, d = digest) => signEach(bitIndices(signers).map((i) => ws[i]!), d)

describe('k-of-N thresholds', () => {
  for (let k = 1; k <= N; k++) {
    test(`threshold ${k} over every signer subset`, async () => {
      await Promise.all(
        Array.from({ length: 2 ** N }, async (_, m) => {
          const signers = BigInt(m)
          const count = bitIndices(signers).length
          const call = verify(signers, join(sigsOf(signers)), k)
          if (count >= k) assert.equal(await call, signers)
          else await expectRevert(call, 'SignaturesBelowThreshold', [count, k])
        }),
      )
    })
  }
  test('threshold above the active count can never be met', async () => {
    await expectRevert(verify(0b1111n, join(sigsOf(0b1111n)), N + 1), 'SignaturesBelowThreshold', [N, N + 1])
  })
})

describe('signature errors', () => {
  const p = (i: number) => ws[i]!.address
  type Case = { name: string; signers: bigint; sigs: () => Hex; error: string; args?: () => unknown[] }
  const s = (i: number) => sigsOf(1n << BigInt(i))[0]!
  const cases: Case[] = [
    { name: 'high s (malleable twin) of participant 3', signers: 0b1010n, sigs: () => join([s(1), highS(s(3))]), error: 'SignatureMalleable', args: () => [3] },
    ...[2, 26, 29, 255].map((v) => ({ name: `v = ${v}`, signers: 0b0011n, sigs: () => join([s(0), withV(s(1), v)]), error: 'SignatureInvalid', args: () => [1] })),
    { name: 'r = 0', signers: 0b0001n, sigs: () => withWord(s(0), 0, 0n), error: 'SignatureInvalid', args: () => [0] },
    { name: 's = 0', signers: 0b0001n, sigs: () => withWord(s(0), 1, 0n), error: 'SignatureInvalid', args: () => [0] },
    { name: 'one byte short', signers: 0b0011n, sigs: () => trim(join([s(0), s(1)]), 1), error: 'SignaturesLengthInvalid', args: () => [130, 129] },
    { name: 'one byte long', signers: 0b0011n, sigs: () => trim(join([s(0), s(1)]), -1), error: 'SignaturesLengthInvalid', args: () => [130, 131] },
    { name: 'one signature too many', signers: 0b0011n, sigs: () => join([s(0), s(1), s(2)]), error: 'SignaturesLengthInvalid', args: () => [130, 195] },
    { name: 'none for a non-empty bitmap', signers: 0b0100n, sigs: () => '0x', error: 'SignaturesLengthInvalid', args: () => [65, 0] },
    { name: 'a stranger', signers: 0b0110n, sigs: () => join([s(1), signEach([stranger], digest)[0]!]), error: 'SignerNotParticipant', args: () => [2, stranger.address] },
    { name: 'another digest', signers: 0b0001n, sigs: () => sigsOf(0b0001n, hexlify(randomBytes(32)) as Hex)[0]!, error: 'SignerNotParticipant' },
    { name: 'participant 1’s signature in slot 0 (1 not a signer)', signers: 0b0001n, sigs: () => s(1), error: 'SignerMismatch', args: () => [0, p(1)] },
    { name: 'participant 1’s signature in slots 0 and 1', signers: 0b0011n, sigs: () => join([s(1), s(1)]), error: 'SignatureDuplicate', args: () => [0, p(1)] },
    { name: 'participant 0’s signature in slots 0 and 1', signers: 0b0011n, sigs: () => join([s(0), s(0)]), error: 'SignatureDuplicate', args: () => [1, p(0)] },
    { name: 'swapped order', signers: 0b0101n, sigs: () => join([s(2), s(0)]), error: 'SignatureDuplicate', args: () => [0, p(2)] },
    { name: 'bit beyond n', signers: 0b10001n, sigs: () => join([s(0), s(0)]), error: 'SignerInactive', args: () => [4] },
    { name: 'bit 63', signers: 1n << 63n, sigs: () => s(0), error: 'SignerInactive', args: () => [63] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      await expectRevert(verify(c.signers, c.sigs()), c.error, c.args?.())
    })
  }

  test('v = 0 / 1 (raw recovery id) is accepted as 27 / 28; the malleable twin stays refused', async () => {
    const raw = (sig: Hex) => withV(sig, Number(BigInt('0x' + sig.slice(130))) - 27)
    assert.equal(await verify(0b1011n, join([raw(s(0)), s(1), raw(s(3))])), 0b1011n)
    const twin = highS(s(1))
    await expectRevert(verify(0b0010n, withV(twin, Number(BigInt('0x' + twin.slice(130))) - 27)), 'SignatureMalleable', [1])
    // A raw id of the other parity recovers another key.
    const flipped = withV(s(0), 28 - Number(BigInt('0x' + s(0).slice(130))))
    await expectRevert(verify(0b0001n, flipped), 'SignerNotParticipant')
  })

  test('unknown channel → ChannelNotOpen; wrong participant list → ChannelParticipantsMismatch', async () => {
    const other = hexlify(randomBytes(32)) as Hex
    await expectRevert(verify(1n, s(0), 1, other), 'ChannelNotOpen', [other, 0])
    const reversed = [...params.participants].reverse()
    await expectRevert(verify(1n, s(0), 1, channelId, reversed), 'ChannelParticipantsMismatch', [channelId])
  })

  test('a participant word with dirty upper bits → ChannelParticipantsMismatch (the list hashes as sent)', async () => {
    const data = f.manager.interface.encodeFunctionData('verifySignatures', [channelId, await recordArg(f.rawManager, channelId), params.participants, digest, 0b10n, s(1), 1])
    const clean = '0'.repeat(24) + params.participants[1]!.slice(2).toLowerCase()
    assert.equal(data.split(clean).length, 2, 'the participant word occurs once')
    const dirty = data.replace(clean, '01' + clean.slice(2))
    const to = await f.manager.getAddress()
    assert.equal(f.manager.interface.decodeFunctionResult('verifySignatures', await f.anvil.provider.call({ to, data }))[0], 0b10n)
    await expectRevert(f.anvil.provider.call({ to, data: dirty }), 'ChannelParticipantsMismatch', [channelId])
  })
})

describe('TypeScript recovery applies the same rules', () => {
  const s0 = () => sigsOf(1n)[0]!
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      assert.ok(e instanceof ProtocolError)
      return e.code
    }
    return 'ok'
  }
  test('valid → the signer; high s → SIGNATURE_MALLEABLE; bad v or length → SIGNATURE_MALFORMED', () => {
    assert.equal(recoverSigner(digest, s0()), ws[0]!.address.toLowerCase())
    assert.equal(code(() => recoverSigner(digest, highS(s0()))), 'SIGNATURE_MALLEABLE')
    for (const v of [2, 26, 29]) assert.equal(code(() => recoverSigner(digest, withV(s0(), v))), 'SIGNATURE_MALFORMED')
    assert.equal(recoverSigner(digest, withV(s0(), Number(BigInt('0x' + s0().slice(130))) - 27)), ws[0]!.address.toLowerCase())
    assert.equal(code(() => recoverSigner(digest, trim(s0(), 1))), 'SIGNATURE_MALFORMED')
    assert.equal(code(() => recoverSigner(digest, withWord(s0(), 0, 0n))), 'SIGNATURE_MALFORMED')
  })
})

describe('no replay across domains', () => {
  test('consent for one manager does not open on another', async () => {
    const other = (await deploy('StateChannelManager', f.wallets[0]!)) as unknown as Contract
    const p = makeParams(ws, params.machine, { deposits: ws.map(() => 0n) })
    const otherHasher = new ParleyHasher({ chainId: f.hasher.domain.chainId, verifyingContract: (await other.getAddress()).toLowerCase() as Hex })
    assert.notEqual(otherHasher.channelId(p), f.hasher.channelId(p))
    await expectRevert(other.getFunction('open').staticCall(p, signOpen(f, ws, p)), 'SignerNotParticipant')
  })

  test('a transaction signed for another chain id is not this chain’s', async () => {
    const tx = { channelId, fork: 0n, seq: 1n, timestamp: 1n, actor: 0, previousStateHash: digest, data: '0x' as Hex, stateHash: digest }
    const foreign = new ParleyHasher({ chainId: f.hasher.domain.chainId + 1n, verifyingContract: f.hasher.domain.verifyingContract })
    const sig = signEach([ws[0]!], foreign.transaction(tx))[0]!
    const here = f.hasher.transaction(tx)
    await expectRevert(f.manager.getFunction('verifySignatures')(channelId, params.participants, here, 1n, sig, 1), 'SignerNotParticipant')
  })
})
