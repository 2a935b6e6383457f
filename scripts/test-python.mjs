// Runs the distillation pipeline's pytest suite as part of `npm test`.
// It needs Debian's PyTorch (python3-torch, python3-onnx, python3-numpy, python3-pytest; .ci/run
// installs them). Without them the suite is reported as skipped, loudly, never as passed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = [process.env.LEANLENS_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
const python = candidates.find(
  (py) => spawnSync(py, ['-c', 'import torch, onnx, numpy, pytest'], { stdio: 'ignore' }).status === 0,
);
if (!existsSync('models/distill/tests')) {
  console.log('python: no models/distill/tests folder; nothing to run');
  process.exit(0);
}
if (!python) {
  console.log(
    'python: SKIPPED the distillation tests — no Python with torch, onnx, numpy and pytest.\n' +
      '        Install them with: sudo apt-get install -y python3-torch python3-onnx python3-numpy python3-pytest',
  );
  process.exit(0);
}
const result = spawnSync(python, ['-m', 'pytest', 'models/distill/tests', '-q', '-p', 'no:cacheprovider'], {
  stdio: 'inherit',
  env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
});
// pytest exits 5 when it collected no tests: say so rather than fail the whole suite on it.
if (result.status === 5) {
  console.log('python: no distillation tests were collected');
  process.exit(0);
}
process.exit(result.status ?? 1);
