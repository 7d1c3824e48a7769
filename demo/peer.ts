/**
 * An honest demo participant: authors a transaction when it is its turn, and confirms a peer's
 * transaction only after checking it (channel, fork, seq, turn, previous hash, the author's
 * signature, and the resulting state by running the machine). Later demos add a transport
 * between peers and a dishonest subclass; the checks here are what such a peer must pass.
 */
import type { Wallet } from 'ethers'
import { ProtocolError } from '../src/errors/ParleyError.js'
import type { StateMachine } from '../src/machine/StateMachine.js'
import { hashState } from '../src/protocol/eip712.js'
import { recoverSigner, signDigest } from '../src/protocol/signatures.js'
import type { Hex, Transaction } from '../src/protocol/types.js'
import type { ChannelView } from './channel-view.js'

/** A transaction as it travels between peers: the tx and its author's signature. */
export interface Proposal {
  transaction: Transaction
  signature: Hex
}

export class DemoPeer {
  /** This peer's view of the channel (set once the channel is open). */
  view: ChannelView | undefined

  constructor(
    readonly name: string,
    readonly index: number,
    readonly wallet: Wallet,
    readonly machine: StateMachine,
  ) {}

  get address(): Hex {
    return this.wallet.address.toLowerCase() as Hex
  }

  /** Builds, records and signs the next transaction with move `data`. */
  async propose(data: Hex, timestamp: bigint): Promise<Proposal> {
    const view = this.channel()
    const head = view.head()
    const actor = await this.machine.nextActor(head.state)
    if (actor !== this.index) {
      throw new ProtocolError('NOT_YOUR_TURN', `${this.name} may not move: it is participant ${actor}'s turn`)
    }
    const state = await this.machine.transition(head.state, this.index, data, timestamp)
    const transaction: Transaction = {
      channelId: view.channelId,
      fork: view.genesis.fork,
      seq: head.seq + 1n,
      timestamp,
      actor: this.index,
      previousStateHash: head.stateHash,
      data,
      stateHash: hashState(state),
    }
    view.append(transaction, state)
    const signature = this.sign(transaction.seq)
    view.addSignature(transaction.seq, this.index, signature)
    return { transaction, signature }
  }

  /** Checks a peer's proposal; if valid, records it and returns this peer's confirmation. */
  async confirm(p: Proposal): Promise<Hex> {
    const view = this.channel()
    const t = p.transaction
    const head = view.head()
    const reject = (code: string, why: string): never => {
      throw new ProtocolError(code, `${this.name} refuses tx ${t.seq}: ${why}`, { details: { transaction: t } })
    }
    if (t.channelId !== view.channelId || t.fork !== view.genesis.fork) reject('TX_WRONG_CHANNEL', 'other channel or fork')
    if (t.seq !== head.seq + 1n || t.previousStateHash !== head.stateHash) reject('TX_NOT_LINKED', `does not extend seq ${head.seq}`)
    const expectedActor = await this.machine.nextActor(head.state)
    if (t.actor !== expectedActor) reject('TX_WRONG_ACTOR', `participant ${t.actor} moved, ${expectedActor} was next`)
    const digest = view.hasher.transaction(t)
    if (recoverSigner(digest, p.signature) !== view.participants[t.actor]) reject('TX_SIGNATURE_INVALID', 'not signed by its author')
    const state = await this.machine.transition(head.state, t.actor, t.data, t.timestamp)
    if (hashState(state) !== t.stateHash) reject('TX_STATE_MISMATCH', 'stateHash is not what the machine computes')
    view.append(t, state)
    view.addSignature(t.seq, t.actor, p.signature)
    const mine = this.sign(t.seq)
    view.addSignature(t.seq, this.index, mine)
    return mine
  }

  /** Records another participant's confirmation (the view checks whose signature it is). */
  receiveConfirmation(seq: bigint, index: number, signature: Hex): void {
    this.channel().addSignature(seq, index, signature)
  }

  private sign(seq: bigint): Hex {
    return signDigest(this.wallet.signingKey, this.channel().digest(seq))
  }

  private channel(): ChannelView {
    if (!this.view) throw new ProtocolError('NO_CHANNEL', `${this.name} has no open channel`)
    return this.view
  }
}
