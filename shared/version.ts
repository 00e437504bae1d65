// The product's version: package.json's, the image's tag (docker-compose.yml's APP_VERSION
// default), CHANGELOG.md's latest heading, /healthz's `version` and every process's first log
// line. test/ops/version.test.ts holds them together: bump them together (and package-lock.json).
export const VERSION = '0.4.1';
