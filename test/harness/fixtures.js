'use strict';
// Test images: the right magic bytes for their type, then deterministic filler to the asked size, so each
// (type, size, seed) is its own image with its own score in the simulator.
const crypto = require('crypto');
const zlib = require('zlib');

function filler(size, seed) {
	const out = Buffer.alloc(Math.max(0, size));
	let block = crypto.createHash('sha256').update(`seed:${seed}`).digest();
	for (let p = 0; p < out.length; p += block.length) {
		block.copy(out, p);
		block = crypto.createHash('sha256').update(block).digest();
	}
	return out;
}

function withHead(head, size, seed, tail = '') {
	const h = Buffer.from(head, 'latin1');
	const t = Buffer.from(tail, 'latin1');
	return Buffer.concat([h, filler(size - h.length - t.length, seed), t]);
}

const image = {
	jpeg: (size = 4096, seed = 1, tail) => withHead('\xff\xd8\xff\xe0\x00\x10JFIF\x00', size, seed, tail),
	png: (size = 4096, seed = 1, tail) => withHead('\x89PNG\r\n\x1a\n', size, seed, tail),
	webp: (size = 4096, seed = 1) => withHead('RIFF\x00\x00\x00\x00WEBPVP8 ', size, seed),
	gif: (size = 4096, seed = 1) => withHead('GIF89a', size, seed),
	pdf: (size = 4096, seed = 1) => withHead('%PDF-1.7\n', size, seed),
	heic: (size = 4096, seed = 1) => withHead('\x00\x00\x00\x18ftypheic', size, seed),
	svg: (size = 4096, seed = 1) => {
		const head = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!--';
		const body = filler(size, seed).toString('hex').slice(0, size - head.length - 9);
		return Buffer.from(`${head}${body}--></svg>`);
	},
	html: (size = 4096) => Buffer.from('<!DOCTYPE html><html><body>' + 'x'.repeat(size - 41) + '</body></html>'),
};

/** A ZIP of { name, data } entries (deflated, as ordinary zip tools write them, unless `store`). */
function zipOf(entries, { store = false } = {}) {
	const locals = [];
	const centrals = [];
	let offset = 0;
	for (const e of entries) {
		const name = Buffer.from(e.name);
		const data = store ? e.data : zlib.deflateRawSync(e.data);
		const crc = zlib.crc32 ? zlib.crc32(e.data) : require('../simulator/png').crc32(e.data);
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(20, 4);
		local.writeUInt16LE(store ? 0 : 8, 8);
		local.writeUInt32LE(crc, 14);
		local.writeUInt32LE(data.length, 18);
		local.writeUInt32LE(e.data.length, 22);
		local.writeUInt16LE(name.length, 26);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(0x02014b50, 0);
		central.writeUInt16LE(20, 4);
		central.writeUInt16LE(20, 6);
		central.writeUInt16LE(store ? 0 : 8, 10);
		central.writeUInt32LE(crc, 16);
		central.writeUInt32LE(data.length, 20);
		central.writeUInt32LE(e.data.length, 24);
		central.writeUInt16LE(name.length, 28);
		central.writeUInt32LE(offset, 42);
		locals.push(local, name, data);
		centrals.push(central, name);
		offset += 30 + name.length + data.length;
	}
	const cd = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(entries.length, 8);
	end.writeUInt16LE(entries.length, 10);
	end.writeUInt32LE(cd.length, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, cd, end]);
}

module.exports = { image, zipOf, filler };
