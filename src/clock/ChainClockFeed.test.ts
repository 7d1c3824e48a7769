import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAnvil } from '../chain/anvil.js'
import { LogicalClock } from './LogicalClock.js'
import { startChainClockFeed } from './ChainClockFeed.js'

test('ChainClockFeed: the clock follows the chain after a time jump; unsubscribing stops it', async () => {
  const anvil = await startAnvil({ accounts: 1 })
  try {
    const clock = new LogicalClock()
    const samples: bigint[] = []
    const errors: unknown[] = []
    const stop = startChainClockFeed(clock, anvil.provider, { onSample: (_n, ts) => samples.push(ts), onError: (e) => errors.push(e) })

    // Make the chain one day ahead of us, then mine until three blocks were sampled. ethers
    // takes its first poll as the baseline (not announced), and we cannot observe when that
    // poll happened, so keep mining every 100 ms rather than waiting for one event.
    await anvil.provider.send('evm_increaseTime', [86_400])
    for (let tries = 0; samples.length < 3; tries++) {
      assert.ok(tries < 100, 'the feed saw no blocks')
      await anvil.mine()
      await new Promise((res) => setTimeout(res, 100))
    }
    const chainNow = BigInt(await anvil.now())
    const now = clock.now()
    assert.ok(now >= chainNow - 3n && now <= chainNow + 3n, `clock ${now} vs chain ${chainNow}`)
    assert.ok(clock.offsetMs > 86_000_000, `offset ${clock.offsetMs}`)
    assert.equal(errors.length, 0)

    stop()
    stop() // idempotent
    assert.equal(await anvil.provider.listenerCount('block'), 0)
  } finally {
    await anvil.stop()
  }
})
