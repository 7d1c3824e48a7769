/**
 * Sending a call so that it does not arrive as the top-level transaction: through a relay
 * contract, or from an EOA that delegated its code (EIP-7702). The client must find what such
 * calls did in the target's event logs; the transaction's `to` and `data` are the relay's or
 * the EOA's, not the target call.
 *
 * Both go through the test contract `Forwarder` (contracts/test/Forwarder.sol):
 * - {@link sendViaRelay}: a plain call of a deployed Forwarder's `forward(target, data)`; the
 *   target sees msg.sender == the Forwarder.
 * - {@link sendVia7702}: a real type-4 transaction (ethers 6 `authorizationList`, signed with
 *   `Wallet.authorize`) from the EOA to itself, carrying its authorization to run the
 *   Forwarder's code and the data `forward(target, data)`; the target sees msg.sender == the
 *   EOA. We use a real transaction rather than anvil's `anvil_setCode` with a 0xef0100‖address
 *   designator so the chain processes the authorization as any node would (nonce, chain id,
 *   the EOA's code and the EOA-equals-tx.origin case). Needs a chain on prague or later
 *   (`startAnvil({ hardfork: 'prague' })`).
 *
 * Reverts reject as ethers errors whose revert data is the target's own (the Forwarder
 * bubbles it unchanged), so `decodeRevert` from ./revert.js names the target's custom error.
 */
import { Contract, Interface, resolveAddress, type AddressLike, type Signer, type TransactionReceipt, type Wallet } from 'ethers'
import { contractInterface } from '../../src/contracts/artifacts.js'
import type { Hex } from '../../src/protocol/types.js'

let forwarder: Interface | undefined
const forwarderInterface = (): Interface => (forwarder ??= contractInterface('Forwarder'))

/** Options of both senders. */
export interface RelayCallOptions {
  /** Wei sent along and forwarded to the target (default 0). */
  value?: bigint
}

/**
 * `signer` calls `relay.forward(target, calldata)` (a deployed Forwarder): the target sees the
 * Forwarder as msg.sender. Resolves with the mined receipt.
 * @example
 * const receipt = await sendViaRelay(forwarderAddress, alice, managerAddress, manager.interface.encodeFunctionData('deposit', [ETH, bob, 1n]), { value: 1n })
 */
export async function sendViaRelay(relay: AddressLike, signer: Signer, target: AddressLike, calldata: Hex, opts: RelayCallOptions = {}): Promise<TransactionReceipt> {
  const contract = new Contract(await resolveAddress(relay), forwarderInterface(), signer)
  const tx = await contract.getFunction('forward')(target, calldata, { value: opts.value ?? 0n })
  return (await tx.wait()) as TransactionReceipt
}

/**
 * `eoa` sends a type-4 transaction to itself that authorizes `delegate` (a deployed
 * Forwarder's address) as its code and calls `forward(target, calldata)` on itself: the
 * target sees the EOA as msg.sender, while the transaction's `to` is the EOA and its `data` the
 * `forward` call. The authorization is sent every time (re-delegating to the same code is
 * harmless), so no setup step is needed. Resolves with the mined receipt.
 * @example
 * const receipt = await sendVia7702(alice, forwarderAddress, managerAddress, manager.interface.encodeFunctionData('withdraw', [ETH, 1n, alice.address]))
 */
export async function sendVia7702(eoa: Wallet, delegate: AddressLike, target: AddressLike, calldata: Hex, opts: RelayCallOptions = {}): Promise<TransactionReceipt> {
  const provider = eoa.provider
  if (!provider) throw new Error('sendVia7702: the wallet must be connected to a provider')
  const nonce = await eoa.getNonce('pending')
  const { chainId } = await provider.getNetwork()
  // The sender's nonce is bumped before authorizations are processed, so a self-sponsored
  // authorization must carry the transaction's nonce + 1 (ethers would fill in the current one).
  const authorization = await eoa.authorize({ address: await resolveAddress(delegate), nonce: nonce + 1, chainId })
  const tx = await eoa.sendTransaction({
    type: 4, to: eoa.address, nonce, value: opts.value ?? 0n, authorizationList: [authorization],
    data: forwarderInterface().encodeFunctionData('forward', [target, calldata]),
  })
  return (await tx.wait()) as TransactionReceipt
}

/**
 * The code at `address` if it is an EIP-7702 delegation (0xef0100 ‖ delegate), as the delegate's
 * address; undefined for an EOA without code or a contract.
 * @example assert.equal(await delegationOf(provider, alice.address), forwarderAddress)
 */
export async function delegationOf(provider: { getCode(address: string): Promise<string> }, address: string): Promise<Hex | undefined> {
  const code = (await provider.getCode(address)).toLowerCase()
  return /^0xef0100[0-9a-f]{40}$/.test(code) ? (`0x${code.slice(8)}` as Hex) : undefined
}
