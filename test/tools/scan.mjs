// n8n's community-package scanner, offline: its CLI fetches the package from the registry and the source from
// GitHub (and checks npm provenance, which only a real publish from GitHub Actions can pass), but its exported
// analyzePackage runs on a folder. Two legs, as n8n scans a package: the packed tarball as users get it, and the
// source files it would fetch through the provenance attestation.
//   node test/tools/scan.mjs <unpacked tarball dir> <source dir>   -> prints JSON { tarball, source }
import path from 'node:path';
import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const [tarballDir, sourceDir] = process.argv.slice(2).map((dir) => path.resolve(dir));
const tarball = await analyzePackage(tarballDir);
const source = await analyzePackage(sourceDir, SOURCE_FILE_PATTERNS);
const brief = (r) => ({ passed: r.passed, message: r.message ?? null, details: r.details ?? null });
process.stdout.write(JSON.stringify({ tarball: brief(tarball), source: brief(source) }));
