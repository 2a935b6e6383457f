#!/usr/bin/env node
// Electron 45 and electron-builder 26 need Node >= 22.12 for their own tooling (`npm start`,
// `npm run dist`); LeanLens itself (CLI, server, tests) runs on Node >= 20.10, which is what
// package.json's engines says. This guard stops the desktop build early with the reason, instead
// of failing deep inside electron-builder.
const [need, ...what] = process.argv.slice(2);
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = need.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  console.error(`${what.join(' ') || 'This step'} needs Node ${need} or newer (Electron 45 and electron-builder 26 require it); this is Node ${process.versions.node}.`);
  process.exit(1);
}
