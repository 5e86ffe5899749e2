// The build: clean, compile, then copy what tsc does not (icons, the codex). `n8n-node build` would clean and
// compile too, but it copies every .png/.svg in the repository (the README's screenshots included) and not the
// node's codex file (*.node.json): so tsc + gulp, in one gulp run.
const { spawn } = require('child_process');
const fs = require('fs');
const { src, dest, parallel, series } = require('gulp');

/** Empties dist/, so a file removed from the sources can never be shipped from an old build. */
async function clean() {
	fs.rmSync('dist', { recursive: true, force: true });
}

/** tsc with the project's tsconfig.json: type-checks, and writes dist/. */
function compile() {
	return spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
}

function icons() {
	return src('icons/*.svg').pipe(dest('dist/icons'));
}

function codex() {
	return src('nodes/**/*.node.json').pipe(dest('dist/nodes'));
}

exports.clean = clean;
exports['build:icons'] = parallel(icons, codex);
exports.build = series(clean, compile, parallel(icons, codex));
