// n8n's community-package scanner, offline (npm run scan; .ci/run runs it beside the lint): its CLI fetches the
// package from the registry and the source from GitHub (and checks npm provenance, which only a real publish from
// GitHub Actions can pass), but its exported analyzePackage runs on a folder. Two legs, as n8n scans a package: the
// packed tarball as users get it, and the source files it would fetch through the provenance attestation.
//   node test/tools/scan.mjs       packs this package, scans both, prints what failed; exit code 1 on a failure
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-scan-'));
try {
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop();
	const unpacked = path.join(dir, 'package');
	fs.mkdirSync(unpacked);
	execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', unpacked, '--strip-components=1']);
	// Not under NODE_ENV=test: n8n's rules plugin names files differently there, and n8n never scans so.
	delete process.env.NODE_ENV;
	const legs = { tarball: await analyzePackage(unpacked), source: await analyzePackage(ROOT, SOURCE_FILE_PATTERNS) };
	let failed = false;
	for (const [leg, r] of Object.entries(legs)) {
		console.log(`${leg}: ${r.passed ? 'passed' : `FAILED: ${r.message}`}`);
		if (!r.passed) {
			failed = true;
			if (r.details) console.log(r.details);
		}
	}
	process.exitCode = failed ? 1 : 0;
} finally {
	fs.rmSync(dir, { recursive: true, force: true });
}
