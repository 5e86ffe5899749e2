// The files of input items, found where n8n puts them and read through n8n's binary helpers only: an item's
// binary fields, or (n8n 2.41's combined binary mode) the file objects it keeps in the item's JSON under `_files`.
import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

import type { FileLabel } from '../transport/errors';
import { InputProblem } from '../transport/errors';

/** Where combined binary mode keeps an item's files (n8n-workflow's BINARY_IN_JSON_PROPERTY, absent before 2.x). */
export const FILES_IN_JSON = '_files';

/** One file of an input item. */
export interface InputFile {
	itemIndex: number;
	/** Its field as the user knows it ("data", "attachment_0", "Image_1"), in either binary mode. */
	field: string;
	meta: IBinaryData;
}

/** A file as errors name it: the name the user knows, and its field. */
export const fileLabel = (file: InputFile): FileLabel => ({ fileName: file.meta.fileName, binaryField: file.field });

/** Which files of an item to take: the fields named in a parameter (or file objects from an expression), or all. */
export type FileSelection = { kind: 'named'; value: unknown; parameter: string } | { kind: 'all' };

/** A file object as n8n keeps it: a MIME type, and its bytes inline (base64) or in the binary data store (id). */
export function isFileObject(value: unknown): value is IBinaryData {
	if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
	const v = value as Record<string, unknown>;
	return typeof v.mimeType === 'string' && (typeof v.id === 'string' || typeof v.data === 'string');
}

/**
 * Whether two file objects are the same stored file: the same object, the same id in the binary data store, or (kept
 * in memory, with no id) the same inline data. Only a file object in the JSON is matched this way against the
 * item's binary fields (a copy of one of them); two binary fields are always two files, equal bytes or not.
 */
function sameFile(a: IBinaryData, b: IBinaryData): boolean {
	if (a === b) return true;
	if (a.id !== undefined || b.id !== undefined) return a.id === b.id;
	return a.data !== undefined && a.data === b.data;
}

/**
 * Field names in a stable order: by name, and a number at the end by its value (attachment_2 before attachment_10).
 * n8n names the files of a form or an email in the order its upload parser finished them, so the order of an
 * item's keys can change from one run to the next.
 */
function byFieldName(a: InputFile, b: InputFile): number {
	const split = (name: string) => /^(.*?)(\d+)$/.exec(name) ?? [name, name, ''];
	const [, stemA, numberA] = split(a.field);
	const [, stemB, numberB] = split(b.field);
	if (stemA !== stemB) return stemA < stemB ? -1 : 1;
	return (numberA === '' ? -1 : Number(numberA)) - (numberB === '' ? -1 : Number(numberB));
}

/**
 * Every file of an item, wherever n8n put it: its binary fields; in combined binary mode `_files`; and file objects
 * a node left in the JSON itself (in combined mode the Form Trigger keeps a file field there: `Images`, a file or a
 * list of them, named `Images_0`, `Images_1`, ... as in the ordinary mode). Each file once, ordered by field name.
 */
export function filesOfItem(n8n: IExecuteFunctions, itemIndex: number): InputFile[] {
	const item = n8n.getInputData()[itemIndex];
	const files: InputFile[] = [];
	for (const [field, meta] of Object.entries(item.binary ?? {})) if (isFileObject(meta)) files.push({ itemIndex, field, meta });
	const inBinary = files.length;
	const add = (field: string, meta: unknown) => {
		if (isFileObject(meta) && !files.some((f, k) => f.field === field || (k < inBinary && sameFile(f.meta, meta)))) files.push({ itemIndex, field, meta });
	};
	const json = item.json ?? {};
	const inJson = json[FILES_IN_JSON];
	if (inJson && typeof inJson === 'object' && !Array.isArray(inJson)) for (const [field, meta] of Object.entries(inJson)) add(field, meta);
	for (const [field, value] of Object.entries(json)) {
		if (field === FILES_IN_JSON) continue;
		if (Array.isArray(value) && value.length && value.every(isFileObject)) value.forEach((meta, k) => add(`${field}_${k}`, meta));
		else add(field, value);
	}
	return files.sort(byFieldName);
}

/** The names in a field parameter: one, or several separated by commas. */
export function fieldNames(value: string): string[] {
	return value
		.split(',')
		.map((name) => name.trim())
		.filter(Boolean);
}

/** What a selection found for one entry: a file, or a field the item lacks (a problem of that entry alone). */
export type Selected = { file: InputFile } | { field: string; problem: InputProblem };

/**
 * The files a selection picks from an item, in the order given (a list of names) or kept (all). A name that the
 * item lacks is a problem of its own entry that lists the fields the item has; `whenNone` says how to get a file
 * there at all. A name given twice is one file.
 */
export function selectFiles(n8n: IExecuteFunctions, itemIndex: number, selection: FileSelection, whenNone: string): Selected[] {
	const present = filesOfItem(n8n, itemIndex);
	if (selection.kind === 'all') return present.map((file) => ({ file }));
	const wanted = Array.isArray(selection.value) ? selection.value : [selection.value];
	const picked: Selected[] = [];
	const names = new Set<string>();
	for (const entry of wanted) {
		if (entry && typeof entry === 'object') {
			picked.push({ file: fileFromExpression(itemIndex, entry as IBinaryData, present, selection.parameter) });
			continue;
		}
		const list = fieldNames(String(entry ?? ''));
		if (!list.length) throw new InputProblem(`"${selection.parameter}" is empty`, 'Enter the name of the binary field that holds the image, such as data.');
		for (const name of list) {
			if (names.has(name)) continue;
			names.add(name);
			picked.push(fileByName(itemIndex, name, present, selection.parameter, whenNone));
		}
	}
	return picked;
}

function fileByName(itemIndex: number, name: string, present: InputFile[], parameter: string, whenNone: string): Selected {
	// In combined binary mode n8n's own nodes take a path such as "_files.data": the same file as "data".
	const field = name.startsWith(`${FILES_IN_JSON}.`) ? name.slice(FILES_IN_JSON.length + 1) : name;
	const found = present.find((f) => f.field === field);
	if (found) return { file: found };
	const names = present.map((f) => f.field);
	const problem = new InputProblem(
		`Item ${itemIndex} has no binary field "${name}"`,
		names.length
			? `Its binary fields are: ${names.join(', ')}. Set "${parameter}" to one of them (several separated by commas), or choose "Every Image of the Item" in "Files" to check them all, as forms and email attachments need.`
			: whenNone,
	);
	problem.context.binaryField = name;
	return { field: name, problem };
}

/**
 * A file object an expression gave ({{ $binary.attachment_0 }}), named by its field when it is one of the item's.
 * Where n8n keeps files in memory, `$binary` hands an expression the file's details without its data: such a
 * reference is matched to the one file of the item with the same details.
 */
function fileFromExpression(itemIndex: number, value: IBinaryData, present: InputFile[], parameter: string): InputFile {
	const hint = `Give the name of a binary field (such as data or attachment_0) in "${parameter}", several separated by commas.`;
	if (isFileObject(value)) {
		const same = present.find((f) => sameFile(f.meta, value));
		return { itemIndex, field: same?.field ?? 'expression', meta: value };
	}
	const v = value as unknown as Record<string, unknown>;
	if (typeof v.mimeType !== 'string' || (v.fileName === undefined && v.fileSize === undefined)) {
		throw new InputProblem(`"${parameter}" of item ${itemIndex} holds an object that is not a file`, `${hint} An expression must give a file, such as {{ $binary.attachment_0 }}.`);
	}
	const details = ['mimeType', 'fileName', 'fileSize', 'fileExtension'] as const;
	const matches = present.filter((f) => details.every((key) => v[key] === undefined || (f.meta as unknown as Record<string, unknown>)[key] === v[key]));
	if (matches.length !== 1) {
		throw new InputProblem(
			`The file "${String(v.fileName ?? 'from the expression')}" in "${parameter}" of item ${itemIndex} ${matches.length ? 'matches several files of the item' : 'is none of the item\'s files'}`,
			`n8n hands an expression only a file's details when it keeps files in memory, so the node looks for the item's file with those details. ${hint}`,
		);
	}
	return matches[0];
}

/** A file's size in bytes, without reading it. */
export async function sizeOf(n8n: IExecuteFunctions, file: InputFile): Promise<number> {
	if (file.meta.id) return (await n8n.helpers.getBinaryMetadata(file.meta.id)).fileSize;
	return Buffer.byteLength(file.meta.data, 'base64');
}

/** A file's bytes, through n8n's helpers (whichever binary mode and store). */
export async function readFile(n8n: IExecuteFunctions, file: InputFile): Promise<Buffer> {
	return await n8n.helpers.getBinaryDataBuffer(file.itemIndex, file.meta);
}

/** A file's first bytes (enough to tell its type), without reading the rest from the store. */
export async function headOf(n8n: IExecuteFunctions, file: InputFile, bytes = 4096): Promise<Buffer> {
	if (!file.meta.id) return Buffer.from(file.meta.data.slice(0, Math.ceil(bytes / 3) * 4), 'base64');
	const stream = await n8n.helpers.getBinaryStream(file.meta.id, bytes);
	const chunks: Buffer[] = [];
	let total = 0;
	for await (const chunk of stream) {
		const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
		chunks.push(piece);
		total += piece.length;
		if (total >= bytes) break; // leaving the loop closes the stream
	}
	return Buffer.concat(chunks).subarray(0, bytes);
}

/** A way to open a file anew for each upload attempt: a stream from the store, or the bytes held inline. */
export function opener(n8n: IExecuteFunctions, file: InputFile): () => Promise<NodeJS.ReadableStream | Buffer> {
	const id = file.meta.id;
	if (id) return async () => await n8n.helpers.getBinaryStream(id);
	return async () => await readFile(n8n, file);
}

/**
 * The files that ride along on an output item: the input item's own binary, and in combined binary mode the
 * files it keeps in `_files` (n8n moves the output's binary there after the node, merged with these).
 */
export function carriedFiles(n8n: IExecuteFunctions, itemIndex: number): { binary?: Record<string, IBinaryData>; inJson?: Record<string, unknown> } {
	const item = n8n.getInputData()[itemIndex];
	const binary = item.binary && Object.keys(item.binary).length ? { ...item.binary } : undefined;
	const inJson = item.json?.[FILES_IN_JSON];
	return { binary, inJson: inJson && typeof inJson === 'object' && !Array.isArray(inJson) ? { ...(inJson as Record<string, unknown>) } : undefined };
}
