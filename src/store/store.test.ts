import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, toBeHex } from 'ethers'
import { MemoryStore } from './MemoryStore.js'
import { SqliteStore } from './SqliteStore.js'
import { RESERVED_SIGNATURE, type Store, type TxRecord } from './types.js'
import type { ChannelParams, Hex } from '../protocol/types.js'
import { ParleyError } from '../errors/ParleyError.js'

const CH = keccak256('0x01') as Hex
const h = (n: number) => keccak256(toBeHex(n, 32)) as Hex
const params: ChannelParams = {
  participants: ['0x' + '11'.repeat(20), '0x' + '22'.repeat(20)] as Hex[],
  machine: ('0x' + '33'.repeat(20)) as Hex,
  asset: ('0x' + '00'.repeat(20)) as Hex,
  deposits: [10n ** 30n, 5n],
  bond: 2n ** 200n,
  p2pTime: 60,
  agreementTime: 30,
  chainFallbackTime: 120,
  challengeTime: 300,
  salt: h(9),
  initData: '0xabcd', openDeadline: 1n << 40n,
}

function txRecord(seq: bigint, fork = 0n, salt = 0): TxRecord {
  return {
    transaction: {
      channelId: CH,
      fork,
      seq,
      timestamp: 1_700_000_000n + seq,
      actor: Number(seq % 2n),
      previousStateHash: h(Number(seq) - 1),
      data: '0x1234',
      stateHash: h(Number(seq)),
    },
    digest: h(1000 + Number(seq) + salt),
    state: `0x${'ab'.repeat(Number(seq) + 1)}` as Hex,
    nextActor: Number((seq + 1n) % 2n),
    receivedAt: 1_700_000_000n + seq,
  }
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof ParleyError, `expected a ParleyError, got ${e}`)
    return e.code
  }
  return 'NO_ERROR'
}

const dirs: string[] = []
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'parley-store-'))
  dirs.push(d)
  return join(d, 'peer.db')
}
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const implementations: [string, () => Store][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore(tempFile())],
]

for (const [name, make] of implementations) {
  describe(name, () => {
    test('channel, forks, txs, signatures, signing log and meta round-trip', () => {
      const s = make()
      assert.equal(s.getChannel(CH), undefined)
      s.putChannel({ channelId: CH, params, me: 1 })
      assert.deepEqual(s.getChannel(CH), { channelId: CH, params, me: 1 })
      assert.deepEqual(s.listChannels(), [CH])

      s.putFork(CH, { fork: 1n, state: '0x02', stateHash: h(2), timestamp: 5n, active: 0b01n, disputed: false })
      s.putFork(CH, { fork: 0n, state: '0x01', stateHash: h(1), timestamp: 4n, active: 0b11n, disputed: false })
      s.setForkDisputed(CH, 0n)
      assert.deepEqual(s.getForks(CH).map((f) => [f.fork, f.active, f.disputed]), [[0n, 0b11n, true], [1n, 0b01n, false]])

      for (const seq of [3n, 1n, 2n]) s.putTx(CH, txRecord(seq))
      s.putTx(CH, txRecord(1n)) // idempotent
      assert.deepEqual(s.getTx(CH, 0n, 2n), txRecord(2n))
      assert.equal(s.getTx(CH, 1n, 2n), undefined)
      assert.deepEqual(s.getTxs(CH, 0n, 2n).map((r) => r.transaction.seq), [2n, 3n])
      assert.deepEqual(s.getTxs(CH, 0n, 0n, 2).map((r) => r.transaction.seq), [1n, 2n])

      s.putSignature(CH, h(7), 1, '0xaa')
      s.putSignature(CH, h(7), 0, '0xbb')
      s.putSignature(CH, h(7), 0, '0xbb')
      assert.deepEqual([...s.getSignatures(CH, h(7))].sort(), [[0, '0xbb'], [1, '0xaa']])

      s.putOwnSignature(CH, { kind: 'tx', fork: 0n, seq: 2n, digest: h(2), signature: '0x02' })
      s.putOwnSignature(CH, { kind: 'tx', fork: 0n, seq: 1n, digest: h(1), signature: '0x01' })
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: '0x03' })
      assert.equal(s.getOwnSignature(CH, 'tx', 0n, 2n)?.digest, h(2))
      assert.deepEqual(s.getOwnSignatures(CH, 0n, 1n).map((r) => [r.kind, r.seq]), [['tx', 1n], ['tx', 2n]])

      s.putMeta(CH, 'phase', 'open')
      s.putMeta(CH, 'phase', 'closing')
      assert.equal(s.getMeta(CH, 'phase'), 'closing')
      assert.deepEqual(s.stats(CH), { txs: 3, signatures: 2, ownSignatures: 3, forks: 2 })
      s.close()
    })

    test('conflicting writes are refused with STORE_CONFLICT', () => {
      const s = make()
      s.putChannel({ channelId: CH, params, me: 0 })
      s.putTx(CH, txRecord(1n))
      assert.equal(codeOf(() => s.putTx(CH, txRecord(1n, 0n, 55))), 'STORE_CONFLICT')
      s.putSignature(CH, h(7), 1, '0xaa')
      assert.equal(codeOf(() => s.putSignature(CH, h(7), 1, '0xcc')), 'STORE_CONFLICT')
      s.putOwnSignature(CH, { kind: 'tx', fork: 0n, seq: 1n, digest: h(1), signature: '0x01' })
      assert.equal(codeOf(() => s.putOwnSignature(CH, { kind: 'tx', fork: 0n, seq: 1n, digest: h(9), signature: '0x09' })), 'STORE_CONFLICT')
      assert.equal(s.getOwnSignature(CH, 'tx', 0n, 1n)?.digest, h(1))
      s.close()
    })

    test('a reservation of a digest is filled in by its signature once; another digest is still a conflict', () => {
      const s = make()
      s.putChannel({ channelId: CH, params, me: 0 })
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: RESERVED_SIGNATURE })
      assert.equal(codeOf(() => s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(4), signature: '0x04' })), 'STORE_CONFLICT')
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: RESERVED_SIGNATURE })
      assert.equal(s.getOwnSignature(CH, 'close', 0n, 0n)?.signature, RESERVED_SIGNATURE)
      assert.throws(() => s.transaction(() => {
        s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: '0x03' })
        throw new Error('rolled back')
      }))
      assert.equal(s.getOwnSignature(CH, 'close', 0n, 0n)?.signature, RESERVED_SIGNATURE, 'a rolled-back fill-in leaves the reservation')
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: '0x03' })
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: '0x33' })
      s.putOwnSignature(CH, { kind: 'close', fork: 0n, seq: 0n, digest: h(3), signature: RESERVED_SIGNATURE })
      assert.equal(s.getOwnSignature(CH, 'close', 0n, 0n)?.signature, '0x03', 'a signature, once in, stays')
      assert.equal(s.stats(CH).ownSignatures, 1)
      s.close()
    })

    test('a failed transaction leaves nothing behind; nested calls join the outer one', () => {
      const s = make()
      s.putChannel({ channelId: CH, params, me: 0 })
      s.putTx(CH, txRecord(1n))
      assert.throws(() =>
        s.transaction(() => {
          s.putTx(CH, txRecord(2n))
          s.transaction(() => s.putSignature(CH, h(2), 0, '0x01'))
          s.putMeta(CH, 'k', 'v')
          s.putTx(CH, txRecord(1n, 0n, 99)) // conflict → everything above rolls back
        }),
      )
      assert.deepEqual(s.stats(CH), { txs: 1, signatures: 0, ownSignatures: 0, forks: 0 })
      assert.equal(s.getMeta(CH, 'k'), undefined)
      assert.equal(s.transaction(() => (s.putMeta(CH, 'k', 'w'), 7)), 7)
      assert.equal(s.getMeta(CH, 'k'), 'w')
      s.close()
    })

    test('writes for an unknown channel and use after close fail with typed errors', () => {
      const s = make()
      assert.equal(codeOf(() => s.putTx(CH, txRecord(1n))), 'STORE_NOT_FOUND')
      s.close()
      assert.equal(codeOf(() => s.getChannel(CH)), 'STORE_CLOSED')
    })
  })
}

test('SqliteStore counts its durable commits: one per write outside a transaction, one per outermost transaction', () => {
  const s = new SqliteStore(tempFile())
  s.putChannel({ channelId: CH, params, me: 1 })
  s.putFork(CH, { fork: 0n, state: '0x00', stateHash: h(1), timestamp: 1n, active: 3n, disputed: false })
  assert.equal(s.commits, 2, 'two writes, each its own commit')
  s.transaction(() => {
    s.putTx(CH, txRecord(1n))
    s.putSignature(CH, txRecord(1n).digest, 0, '0x01')
    s.transaction(() => s.putMeta(CH, 'k', 'v')) // nested: part of the outer commit
  })
  assert.equal(s.commits, 3, 'one transaction, one commit, whatever it wrote')
  s.getTx(CH, 0n, 1n)
  assert.equal(s.commits, 3, 'reads commit nothing')
  s.close()
})

test('SqliteStore.hold: the transactions of one async input are one commit, made when it ends; nobody else joins or sees it uncommitted', async () => {
  const file = tempFile()
  const s = new SqliteStore(file)
  const other = new SqliteStore(file) // a second connection sees only what is committed
  s.putChannel({ channelId: CH, params, me: 1 })
  s.putFork(CH, { fork: 0n, state: '0x00', stateHash: h(1), timestamp: 1n, active: 3n, disputed: false })
  const start = s.commits
  const seen: (TxRecord | undefined)[] = []
  await s.hold(async () => {
    s.transaction(() => s.putTx(CH, txRecord(1n)))
    await new Promise((r) => setImmediate(r)) // an await between the steps (the machine runs)
    s.transaction(() => s.putTx(CH, txRecord(2n)))
    seen.push(s.getTx(CH, 0n, 1n), other.getTx(CH, 0n, 1n))
    await s.hold(async () => s.putMeta(CH, 'k', 'v')) // nested: joins
  })
  assert.equal(s.commits, start + 1, 'one commit for the whole input')
  assert.deepEqual(seen, [txRecord(1n), undefined], 'inside: written; another connection: nothing until the commit')
  assert.deepEqual(other.getTx(CH, 0n, 2n), txRecord(2n))
  assert.equal(other.getMeta(CH, 'k'), 'v')

  // A write from outside the hold (another channel, a listener) commits the hold first.
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const held = s.hold(async () => {
    s.putTx(CH, txRecord(3n))
    await gate
    s.putTx(CH, txRecord(4n)) // after the hold was committed from outside: its own commit
  })
  await new Promise((r) => setImmediate(r))
  assert.equal(other.getTx(CH, 0n, 3n), undefined)
  s.putMeta(CH, 'outside', '1')
  assert.deepEqual(other.getTx(CH, 0n, 3n), txRecord(3n), 'committed before the outside write')
  release()
  await held
  assert.deepEqual(other.getTx(CH, 0n, 4n), txRecord(4n))

  // A failing input still commits what its completed steps wrote; settle() commits an open hold.
  await assert.rejects(s.hold(async () => {
    s.transaction(() => s.putTx(CH, txRecord(5n)))
    assert.throws(() => s.transaction(() => {
      s.putTx(CH, txRecord(6n))
      throw new Error('step failed')
    }))
    throw new Error('input failed')
  }), /input failed/)
  assert.deepEqual(other.getTx(CH, 0n, 5n), txRecord(5n))
  assert.equal(other.getTx(CH, 0n, 6n), undefined, 'the failed step left nothing')
  await s.hold(async () => {
    s.putTx(CH, txRecord(7n))
    s.settle()
    assert.deepEqual(other.getTx(CH, 0n, 7n), txRecord(7n))
  })
  other.close()
  s.close()
})

test('SqliteStore: a reopened file holds everything that was committed', () => {
  const file = tempFile()
  const a = new SqliteStore(file)
  a.putChannel({ channelId: CH, params, me: 1 })
  a.transaction(() => {
    a.putTx(CH, txRecord(1n))
    a.putOwnSignature(CH, { kind: 'tx', fork: 0n, seq: 1n, digest: h(1001), signature: '0x01' })
  })
  a.close()
  const b = new SqliteStore(file)
  assert.deepEqual(b.getChannel(CH)?.params, params)
  assert.deepEqual(b.getTx(CH, 0n, 1n), txRecord(1n))
  assert.equal(b.getOwnSignature(CH, 'tx', 0n, 1n)?.signature, '0x01')
  b.close()
})

test('SqliteStore: every commit acknowledged before a SIGKILL survives it', async () => {
  const file = tempFile()
  const init = new SqliteStore(file)
  init.putChannel({ channelId: CH, params, me: 0 })
  init.close()
  // A child process commits signing-log rows as fast as it can and reports each one; we kill
  // it mid-stream. Every reported row must be on disk, and the file must open cleanly.
  const script = join(tempFile() + '.child.ts')
  writeFileSync(
    script,
    `import { SqliteStore } from ${JSON.stringify(new URL('./SqliteStore.ts', import.meta.url).pathname)}
const s = new SqliteStore(${JSON.stringify(file)})
for (let i = 1n; ; i++) {
  s.putOwnSignature(${JSON.stringify(CH)}, { kind: 'tx', fork: 0n, seq: i, digest: '0x' + i.toString(16).padStart(64, '0'), signature: '0x01' })
  process.stdout.write(i + '\\n')
}
`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let acked = 0n
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      const lines = b.toString().trim().split('\n')
      acked = BigInt(lines[lines.length - 1]!)
      if (acked >= 50n && child.exitCode === null && !child.killed) child.kill('SIGKILL')
    })
    child.on('exit', () => resolve())
  })
  const s = new SqliteStore(file)
  const rows = s.getOwnSignatures(CH, 0n)
  assert.ok(rows.length >= Number(acked), `${rows.length} rows on disk, ${acked} acknowledged`)
  assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => BigInt(i + 1)))
  s.close()
})

test('SqliteStore.hold: a process killed inside a hold leaves none of it on disk', async () => {
  const file = tempFile()
  const init = new SqliteStore(file)
  init.putChannel({ channelId: CH, params, me: 0 })
  init.close()
  const script = join(tempFile() + '.hold.mts')
  writeFileSync(
    script,
    `import { SqliteStore } from ${JSON.stringify(new URL('./SqliteStore.ts', import.meta.url).pathname)}
const s = new SqliteStore(${JSON.stringify(file)})
s.putOwnSignature(${JSON.stringify(CH)}, { kind: 'tx', fork: 0n, seq: 1n, digest: '0x' + '01'.padStart(64, '0'), signature: '0x01' })
await s.hold(async () => {
  s.transaction(() => s.putOwnSignature(${JSON.stringify(CH)}, { kind: 'tx', fork: 0n, seq: 2n, digest: '0x' + '02'.padStart(64, '0'), signature: '0x01' }))
  await new Promise((r) => setImmediate(r))
  s.transaction(() => s.putOwnSignature(${JSON.stringify(CH)}, { kind: 'tx', fork: 0n, seq: 3n, digest: '0x' + '03'.padStart(64, '0'), signature: '0x01' }))
  process.stdout.write('inside\\n')
  await new Promise(() => setInterval(() => {}, 1000))
})
`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('inside')) child.kill('SIGKILL')
    })
    child.on('exit', () => resolve())
  })
  const s = new SqliteStore(file)
  assert.deepEqual(s.getOwnSignatures(CH, 0n).map((r) => r.seq), [1n], 'the write before the hold only')
  s.close()
})
