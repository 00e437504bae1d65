// The protocol client lives in simulator/ (one client for tests, the simulator and the benchmarks).
export { attendancesCsv, batchZip, deviceXml, readPackage, type CsvAttendance, type Package } from '../../simulator/batch.js';
export { DeviceClient as TestDevice, type DeviceIdentity } from '../../simulator/device-client.js';
