// The build's two steps around tsc. `n8n-node build` would clean and compile too, but it copies every .png/.svg in
// the repository (the README's screenshot included) and not the node's codex file (*.node.json): so tsc + gulp.
const fs = require('fs');
const { src, dest, parallel } = require('gulp');

/** Empties dist/, so a file removed from the sources can never be shipped from an old build. */
async function clean() {
	fs.rmSync('dist', { recursive: true, force: true });
}

function icons() {
	return src('icons/*.svg').pipe(dest('dist/icons'));
}

function codex() {
	return src('nodes/**/*.node.json').pipe(dest('dist/nodes'));
}

exports.clean = clean;
exports['build:icons'] = parallel(icons, codex);
