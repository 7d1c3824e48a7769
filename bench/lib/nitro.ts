/**
 * Nitro's side of `npm run bench:gas`: the adjudicator of `@statechannels/nitro-protocol` 0.17.3
 * (a devDependency; its shipped compiled artifacts, nothing compiled here) deployed on the same
 * anvil as Parley, and the receipt gasUsed of the operations Parley's are compared with. States
 * are built, hashed and signed with the package's own library (which carries its own ethers 5);
 * transactions are sent with ethers 6 from the ABI in the artifact.
 *
 * What each figure is (N participants, one ETH asset, one allocation item per participant, the
 * destination being the participant's own address; every support proof is one state signed by
 * all N, like Parley's finality proof of one transaction signed by all):
 * - `deposits`: the N deposits that fund a fresh channel, one per participant, each from its
 *   own account (the first writes the channel's holdings slot, the others update it).
 * - `conclude`: conclude on a fresh channel (no challenge ever registered), a final state.
 * - `concludeAndTransferAllAssets`: the same on a funded channel, paying every participant.
 * - `challenge`: registers a state (fresh status slot), sent by a non-participant with the
 *   challenger's signature.
 * - `checkpointClearing`: a checkpoint of the next state that clears that challenge.
 * - `checkpoint`: a checkpoint on a channel with no challenge whose status slot is already
 *   written (the cheapest checkpoint: what earlier reports quoted).
 * - `respond`: the mover's response (one signature, CountingApp's validTransition) that clears
 *   the challenge.
 */
import { createRequire } from 'node:module'
import { ContractFactory, Interface, type TransactionReceipt, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'
import { progress } from './report.js'

const require = createRequire(import.meta.url)
// The package's CommonJS library and artifacts (lib/artifacts: the compiled contracts it ships).
/* eslint-disable @typescript-eslint/no-explicit-any */
const nitro: any = require('@statechannels/nitro-protocol')
const ADJUDICATOR: { abi: any; bytecode: string } = require('@statechannels/nitro-protocol/lib/artifacts/contracts/NitroAdjudicator.sol/NitroAdjudicator.json')
const COUNTING_APP: { abi: any; bytecode: string } = require('@statechannels/nitro-protocol/lib/artifacts/contracts/CountingApp.sol/CountingApp.json')
/* eslint-enable @typescript-eslint/no-explicit-any */
const iface = new Interface(ADJUDICATOR.abi)
const ZERO = '0x0000000000000000000000000000000000000000'
const CHALLENGE_DURATION = 300

/** Nitro's figures at one N (receipt gasUsed). */
export interface NitroRow {
  n: number
  deposits: bigint
  conclude: bigint
  concludeAndTransferAllAssets: bigint
  challenge: bigint
  checkpointClearing: bigint
  checkpoint: bigint
  respond: bigint
}

/** The package version the figures come from. */
export function nitroVersion(): string {
  return (require('@statechannels/nitro-protocol/package.json') as { version: string }).version
}

export interface NitroCtx {
  anvil: Anvil
  /** Sends every call that needs no participant (conclude, challenge, checkpoint, respond). */
  submitter: Wallet
}

export interface NitroDeployment {
  adjudicator: Hex
  app: Hex
}

/** Deploys NitroAdjudicator and CountingApp from the package's artifacts. */
export async function deployNitro(ctx: NitroCtx): Promise<NitroDeployment> {
  const deploy = async (a: { abi: unknown; bytecode: string }) => {
    const c = await new ContractFactory(a.abi as never, a.bytecode, ctx.submitter).deploy()
    await c.waitForDeployment()
    return (await c.getAddress()).toLowerCase() as Hex
  }
  return { adjudicator: await deploy(ADJUDICATOR), app: await deploy(COUNTING_APP) }
}

/** Measures every Nitro operation at channel size `n` (participants = anvil accounts 1…n). */
export async function measureNitro(ctx: NitroCtx, d: NitroDeployment, n: number, deposit: bigint): Promise<NitroRow> {
  const ws = ctx.anvil.wallets.slice(1, n + 1)
  const participants = ws.map((w) => w.address)
  const chainId = Number((await ctx.anvil.provider.getNetwork()).chainId)
  const outcome = [{
    asset: ZERO,
    allocationItems: participants.map((p) => ({ destination: '0x' + p.slice(2).toLowerCase().padStart(64, '0'), amount: '0x' + deposit.toString(16) })),
  }]
  const channel = (nonce: number) => ({ chainId: '0x' + chainId.toString(16), channelNonce: nonce, participants })
  const state = (nonce: number, turnNum: number, isFinal: boolean) => ({
    turnNum, isFinal, channel: channel(nonce), challengeDuration: CHALLENGE_DURATION, outcome, appDefinition: d.app,
    appData: '0x' + BigInt(turnNum).toString(16).padStart(64, '0'), // CountingApp: the counter = the turn number
  })
  const sig = (s: unknown, i: number) => {
    const { v, r, s: ss } = nitro.signState(s, ws[i]!.privateKey).signature as { v: number; r: string; s: string }
    return { v, r, s: ss }
  }
  const allSign = (s: unknown) => ws.map((_, i) => sig(s, i))
  const fixedPart = (s: unknown) => nitro.getFixedPart(s)
  const variablePart = (s: unknown) => nitro.getVariablePart(s)
  const send = async (from: Wallet, method: string, args: unknown[], value = 0n): Promise<TransactionReceipt> => {
    const data = iface.encodeFunctionData(method, args)
    const receipt = await (await from.sendTransaction({ to: d.adjudicator, data, value })).wait()
    if (!receipt || receipt.status !== 1) throw new RuntimeError('BENCH_CALL_FAILED', `Nitro N=${n}: ${method} failed`)
    return receipt
  }
  // Channel nonces: 1000·n + k, so every N has its own channels.
  const nonce = (k: number) => 1000 * n + k
  const fund = async (k: number) => {
    const id = nitro.getChannelId(channel(nonce(k))) as string
    let gas = 0n
    for (const [i, w] of ws.entries()) gas += (await send(w, 'deposit', [ZERO, id, deposit * BigInt(i), deposit], deposit)).gasUsed
    return gas
  }
  const conclude = (s: unknown) => {
    const fp = fixedPart(s)
    return [(s as { turnNum: number }).turnNum, fp, nitro.hashAppPart(s), nitro.hashOutcome(outcome), 1, ws.map(() => 0), allSign(s)]
  }
  const checkpoint = (s: { turnNum: number }) => [fixedPart(s), s.turnNum, [variablePart(s)], 0, allSign(s), ws.map(() => 0)]

  progress(`Nitro N=${n}: deposits, conclude, concludeAndTransferAllAssets`)
  const deposits = await fund(1)
  const concluded = await send(ctx.submitter, 'conclude', conclude(state(nonce(2), 2 * n, true)))
  const final = state(nonce(1), 2 * n, true)
  const fp = fixedPart(final)
  const transferred = await send(ctx.submitter, 'concludeAndTransferAllAssets',
    [final.turnNum, fp, nitro.hashAppPart(final), nitro.encodeOutcome(outcome), 1, ws.map(() => 0), allSign(final)])
  const held = (await ctx.anvil.provider.call({ to: d.adjudicator, data: iface.encodeFunctionData('holdings', [ZERO, nitro.getChannelId(channel(nonce(1)))]) }))
  if (BigInt(held) !== 0n) throw new RuntimeError('BENCH_WRONG_RESULT', `Nitro N=${n}: concludeAndTransferAllAssets left ${BigInt(held)} in the channel`)

  progress(`Nitro N=${n}: challenge, checkpoint, respond`)
  // The challenged state is turn 3n (not final; past the setup turns below 2n, where Nitro
  // requires unchanged app data), signed by all; the challenger is participant 0.
  const turn = 3 * n
  const challenged = state(nonce(3), turn, false)
  const challengeArgs = [...checkpoint(challenged), nitro.signChallengeMessage([{ state: challenged, signature: {} }], ws[0]!.privateKey)]
  const snapshot = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  const challenge = await send(ctx.submitter, 'challenge', challengeArgs)
  const next = state(nonce(3), turn + 1, false)
  const clearing = await send(ctx.submitter, 'checkpoint', checkpoint(next))
  await ctx.anvil.provider.send('evm_revert', [snapshot])
  await send(ctx.submitter, 'challenge', challengeArgs)
  // The mover of turn 3n+1 is participant (3n+1) mod n = 1.
  const responded = await send(ctx.submitter, 'respond', [[false, false], fixedPart(next), [variablePart(challenged), variablePart(next)], sig(next, (turn + 1) % n)])
  // A checkpoint with no challenge on a channel whose status slot is written: the turn after it.
  const plain = await send(ctx.submitter, 'checkpoint', checkpoint(state(nonce(3), turn + 2, false)))
  return {
    n, deposits, conclude: concluded.gasUsed, concludeAndTransferAllAssets: transferred.gasUsed,
    challenge: challenge.gasUsed, checkpointClearing: clearing.gasUsed, checkpoint: plain.gasUsed, respond: responded.gasUsed,
  }
}
