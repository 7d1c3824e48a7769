/**
 * Deadlines in the user's local time, and a warning before one passes: our broadcast window
 * (after it, a move goes on-chain as a post, at a gas cost) and the answer to a timeout that
 * accuses us (after it, we are removed). Chain time is converted with the peer's logical clock,
 * which follows block timestamps.
 */
import type { Channel } from '../../src/channel/Channel.js'
import type { Clock } from '../../src/clock/Clock.js'
import type { Court } from '../../src/dispute/attachCourt.js'
import type { ChannelTimes } from '../../src/channel/params.js'
import { broadcastDeadline } from '../../src/protocol/timing.js'

/** A chain-time deadline as the user reads it. */
export interface LocalDeadline {
  /** Chain time (seconds). */
  deadline: bigint
  /** The same instant on this computer's clock (ISO 8601). */
  local: string
  /** Seconds from now (negative: passed). */
  inSeconds: number
}

/** `deadline` (chain seconds) on this computer's clock, by the offset `clock` keeps to the chain. */
export function localDeadline(deadline: bigint, clock: Clock, nowMs = Date.now()): LocalDeadline {
  const inSeconds = Number(deadline - clock.now())
  return { deadline, local: new Date(nowMs + inSeconds * 1000).toISOString(), inSeconds }
}

/** `12:34:56 (in 15 s)` in local time. */
export function describeDeadline(d: LocalDeadline): string {
  const time = new Date(d.local).toLocaleTimeString(undefined, { hour12: false })
  const rel = d.inSeconds >= 0 ? `in ${span(d.inSeconds)}` : `${span(-d.inSeconds)} ago`
  return `${time} local time (${rel}; chain time ${d.deadline})`
}

function span(s: number): string {
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`
}

/** How long before a deadline of a window of `window` seconds the warning comes: a quarter of it, 1..60 s. */
export function leadTime(window: number): number {
  return Math.max(1, Math.min(60, Math.floor(window / 4)))
}

/** Where the warnings go (the run's printer). */
export interface WarningSink {
  warning(code: string, message: string, data?: Record<string, unknown>): void
}

/**
 * Watches our turn and timeouts against us; warns `lead` seconds before each deadline (or at
 * once when less is left). Returns the stop function.
 * @example const stop = watchDeadlines({ channel, court, clock, printer, times: params })
 */
export function watchDeadlines(o: { channel: Channel; court: Court; clock: Clock; printer: WarningSink; times: ChannelTimes }): () => void {
  const timers = new Set<NodeJS.Timeout>()
  const at = (deadline: bigint, lead: number, fire: () => void) => {
    const ms = Math.max(0, Number(deadline - o.clock.now() - BigInt(lead)) * 1000)
    const t = setTimeout(() => (timers.delete(t), fire()), ms)
    t.unref()
    timers.add(t)
  }
  let turnTimer: { fork: bigint; seq: bigint } | undefined
  const onTurn = () => {
    const s = o.channel.state
    if (!s.isMyTurn || s.phase !== 'open' || (turnTimer?.fork === s.fork && turnTimer.seq === s.seq)) return
    turnTimer = { fork: s.fork, seq: s.seq }
    const deadline = broadcastDeadline(s.timestamp, o.times)
    at(deadline, leadTime(o.times.p2pTime), () => {
      const now = o.channel.state
      if (now.fork !== s.fork || now.seq !== s.seq || !now.isMyTurn) return // we moved, or the chain set a new fork
      const d = localDeadline(deadline, o.clock)
      o.printer.warning('MOVE_WINDOW_CLOSING', `your move window ${d.inSeconds >= 0 ? 'closes' : 'closed'} at ${describeDeadline(d)}: a move typed after it is posted on-chain, at a gas cost`,
        { fork: s.fork, seq: s.seq, deadline, deadlineLocal: d.local })
    })
  }
  const offs = [
    o.channel.on('state', () => onTurn()),
    o.channel.on('fork', () => onTurn()),
    o.court.on('move-needed', (m) => at(m.deadline, leadTime(o.times.challengeTime), () => {
      if (!o.court.handler.accused) return // answered
      const d = localDeadline(m.deadline, o.clock)
      o.printer.warning('TIMEOUT_DEADLINE_NEAR', `a timeout accuses you and ends at ${describeDeadline(d)}: type your move before it or be removed`,
        { fork: m.fork, seq: m.seq, deadline: m.deadline, deadlineLocal: d.local })
    })),
  ]
  onTurn()
  return () => {
    offs.forEach((off) => off())
    timers.forEach((t) => clearTimeout(t))
    timers.clear()
  }
}
