// Refuses to run the service or its tests on a Node.js older than the project supports: npm
// scripts find the `node` package's binary (Node 24) in node_modules/.bin first, so this only
// fails when that binary is missing (an install with --omit=dev outside the Docker image).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`Node.js ${process.versions.node} is too old: this project runs on Node 24 (22.12 at least). ` +
    'Run `npm install` (it installs Node 24 into node_modules/.bin) or install Node 24.');
  process.exit(1);
}
