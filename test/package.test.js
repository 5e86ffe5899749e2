'use strict';
// The package as npm would publish it: what the tarball holds, what package.json promises, and what the editor
// needs to find it. n8n's community-package scanner runs beside the lint (npm run scan, in .ci/run).
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
let dir;
let files;
let manifest;

beforeAll(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-pack-test-'));
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop();
	fs.mkdirSync(path.join(dir, 'package'));
	execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', path.join(dir, 'package'), '--strip-components=1']);
	files = execFileSync('tar', ['tzf', path.join(dir, tarball)], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
	manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package', 'package.json'), 'utf8'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the built node, credential, icons and codex, and nothing from the sources or tests', () => {
	for (const f of [...manifest.n8n.nodes, ...manifest.n8n.credentials, manifest.main]) expect(files).toContain(f);
	expect(files).toEqual(expect.arrayContaining(['dist/icons/undetectableImage.svg', 'dist/icons/undetectableImage.dark.svg', 'dist/nodes/UndetectableImage/UndetectableImage.node.json', 'README.md', 'LICENSE', 'package.json']));
	const stray = files.filter((f) => !f.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(f));
	expect(stray).toEqual([]);
	expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
});

test('no runtime dependencies; n8n-workflow only as a peer; MIT', () => {
	expect(manifest.dependencies ?? {}).toEqual({});
	expect(manifest.peerDependencies).toEqual({ 'n8n-workflow': '*' });
	expect(manifest.license).toBe('MIT');
	expect(manifest.keywords).toContain('n8n-community-node-package');
	expect(manifest.scripts.prepublishOnly).toMatch(/build/);
	expect(manifest.scripts.prepublishOnly).toMatch(/lint/);
});

test('the editor can find the node: an ordinary action category, and the aliases users type', () => {
	const codex = JSON.parse(fs.readFileSync(path.join(dir, 'package', 'dist/nodes/UndetectableImage/UndetectableImage.node.json'), 'utf8'));
	// n8n's nodes panel hides a node in category "AI" unless its AI subcategories say "Root Nodes": it takes it for a
	// sub-node (filterOutAiNodes in the editor's node-creator store), so search found nothing.
	if (codex.categories.includes('AI')) expect(codex.subcategories?.AI ?? []).toContain('Root Nodes');
	expect(codex.categories).toEqual(['Utility']);
	const aliases = codex.alias.map((a) => a.toLowerCase());
	for (const wanted of ['undetectable', 'ai image', 'deepfake', 'image detection', 'ai detector', 'heatmap']) expect(aliases).toContain(wanted);
	// n8n rebuilds a Tool variant's codex without aliases, and the 2.8.4 editor finds tools by display name only.
	const { UndetectableImage } = require(path.join(ROOT, manifest.n8n.nodes[0]));
	expect(new UndetectableImage().description.usableAsTool.replacements.displayName).toMatch(/Deepfake/);
});
