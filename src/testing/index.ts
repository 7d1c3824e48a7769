/**
 * `parley/testing`: a real chain and DHT on this host, and in-memory stand-ins, for tests,
 * demos and trying Parley out. `startAnvil` needs the optional peer dependency
 * `@foundry-rs/anvil` (`npm install -D @foundry-rs/anvil`); the rest runs on Parley's own
 * dependencies.
 */
/// <reference path="../net/types/hyperdht.d.ts" preserve="true" />
export { startAnvil, ANVIL_MNEMONIC, type Anvil, type AnvilOptions } from '../chain/anvil.js'
export { deployLocalStack, type LocalStack, type ExampleMachines } from '../chain/stack.js'
export { startTestnet, type Testnet, type TestnetOptions } from './testnet.js'
export { MemoryHub, type MemoryHubOptions, type HubStats } from '../transport/MemoryHub.js'
export { ManualClock, type ManualClockOptions } from '../clock/ManualClock.js'
export { MemoryStore } from '../store/MemoryStore.js'
