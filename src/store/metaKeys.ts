/**
 * Every key a channel's meta record is stored under, in one place: who writes it and what its
 * value is. A channel's modules read and write them through ChannelRecords (./ChannelRecords.ts),
 * which names each one; the chain listener keeps its cursor under `chainCursor`. A reader sees
 * the whole per-channel record at once.
 */
import type { Hex } from '../protocol/types.js'

export const META = {
  /** The channel's local phase (channel/phase.ts), written by the Engine. */
  phase: 'phase',
  /** Our cooperative close in progress (JSON), written by the CloseCoordinator. */
  close: 'close',
  /** The court's state (JSON: chain view, duties done, evidence), written by the DisputeHandler. */
  courtState: 'court:state',
  /** The latest final seq of a fork (a restore hint), written with every committed transaction. */
  final: (fork: bigint) => `final:${fork}`,
  /** Participants that refused our transactions on a fork (bitmap), written by the AgreementManager. */
  refusers: (fork: bigint) => `refusers:${fork}`,
  /** Our transactions up to this seq of a fork make no refusers (their deadline passed while we were stopped). */
  excused: (fork: bigint) => `excused:${fork}`,
  /** How far the chain listener read for this manager (block number and hash). */
  chainCursor: (manager: Hex | string) => `chain:cursor:${manager}`,
} as const
