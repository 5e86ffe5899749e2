'use strict';
// The demo's pictures: six real PNGs (noise over a colour wash), each its own image with its own score.
const fs = require('fs');
const path = require('path');
const { encodePng } = require('../test/simulator/png');

const NAMES = ['beach', 'city-night', 'portrait', 'forest', 'product-shot', 'street-art'];

function writeImages(dir) {
	fs.mkdirSync(dir, { recursive: true });
	NAMES.forEach((name, n) => {
		let seed = 1234 + n * 7919;
		const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
		const png = encodePng(128, (x, y) => [(x * 2 + n * 40) & 255, (y * 2 + n * 20) & 255, Math.floor(rand() * 256), 255]);
		fs.writeFileSync(path.join(dir, `${name}.png`), png);
	});
	return NAMES.map((s) => `${s}.png`);
}

module.exports = { writeImages };
