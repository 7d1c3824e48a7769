/**
 * `parley conclude` and `status` on a terminal state: two SDK peers play TicTacToe into SQLite
 * stores (no court, so nobody concludes for us); before the last move `conclude` refuses
 * (STATE_NOT_TERMINAL, exit 2, nothing sent) and `status` does not say terminal; after X wins,
 * `status` says terminal and `conclude` settles from alice's store alone with the proof it builds
 * there — X takes the pot on-chain.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { ETH, Phase, type Hex } from '../src/protocol/types.js'
import { openPeers, play, settle, type Peers } from '../test/helpers/peers.js'
import { parley } from './harness.js'
import { writeParamsFile } from './lib/params.js'

const ONE = 10n ** 18n
const cell = (n: number) => AbiCoder.defaultAbiCoder().encode(['uint256'], [n]) as Hex
const CELLS = [0, 3, 1, 4, 2] // X: 0 1 2 (top row), O: 3 4
let anvil: Anvil
let stack: LocalStack
let peers: Peers
let dir: string
let chain: string[]

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  dir = mkdtempSync(join(tmpdir(), 'parley-conclude-'))
  peers = await openPeers({ anvil, stack, hasher: await stack.manager.hasher(), machine: 'tictactoe', wallets: anvil.wallets.slice(1, 3), sqliteDir: dir })
  writeParamsFile(join(dir, 'game.json'), { params: peers.params, chainId: 31337n, manager: stack.manager.address, channelId: peers.channelId, machineName: 'tictactoe' })
  chain = ['--rpc', anvil.url, '--manager', stack.manager.address, '--key', anvil.wallets[3]!.privateKey]
})
after(async () => {
  for (const c of peers?.channels ?? []) await c.dispose().catch(() => {})
  for (const s of peers?.stores ?? []) s.close()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

const status = async () => {
  const r = await parley(['status', 'game.json', '--store', 'peer0.db', '--rpc', anvil.url, '--json'], dir)
  assert.equal(r.code, 0, r.stderr)
  return r.json!.local as Record<string, unknown>
}

describe('parley conclude', () => {
  it('refuses a final state that is not terminal, and status does not call it terminal', async () => {
    await play(peers.channels, 4, (_, seq) => cell(CELLS[Number(seq) - 1]!))
    await settle(peers.hub, peers.channels)
    const local = await status()
    assert.deepEqual([local.finalSeq, local.finalTerminal], ['4', false])
    const r = await parley(['conclude', 'game.json', '--store', 'peer0.db', ...chain], dir)
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^error STATE_NOT_TERMINAL: the latest final state \(seq 4: board XX\.\/OO\.\/\.\.\. · ongoing/)
    assert.equal((await stack.manager.getChannel(peers.channelId)).phase, Phase.Open)
  })

  it('settles a terminal state from the store alone: X takes the pot', async () => {
    await play(peers.channels, 1, (_, seq) => cell(CELLS[Number(seq) - 1]!))
    await settle(peers.hub, peers.channels)
    const local = await status()
    assert.deepEqual([local.finalSeq, local.finalTerminal], ['5', true])
    const text = await parley(['status', 'game.json', '--store', 'peer0.db', '--rpc', anvil.url], dir)
    assert.match(text.stdout, /final\s+seq 5: board XXX\/OO\.\/\.\.\. · X won — terminal: `parley conclude` settles it/)

    const r = await parley(['conclude', 'game.json', '--store', 'peer0.db', ...chain, '--json'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual([r.json!.seq, r.json!.payouts], ['5', [String(2n * ONE), '0']])
    assert.equal((await stack.manager.getChannel(peers.channelId)).phase, Phase.Closed)
    const [x, o] = peers.params.participants
    assert.deepEqual([await stack.manager.balanceOf(x!, ETH), await stack.manager.balanceOf(o!, ETH)], [2n * ONE, 0n])
    const again = await parley(['conclude', 'game.json', '--store', 'peer0.db', ...chain], dir)
    assert.equal(again.code, 2)
    assert.match(again.stderr, /^error CHANNEL_NOT_OPEN: the channel is Closed on-chain/)
  })
})
