import type { BenchContext, ScenarioResult } from '../harness.js';
export async function fleetScenario(_ctx: BenchContext): Promise<ScenarioResult> { throw new Error('todo'); }
