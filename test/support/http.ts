// The fetch wrapper lives with the protocol client in simulator/ (one client for tests,
// the simulator and the benchmarks).
export { http, type HttpResult } from '../../simulator/http.js';
