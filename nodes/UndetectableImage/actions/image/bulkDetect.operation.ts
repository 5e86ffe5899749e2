import type { IDataObject, INodeExecutionData, INodeProperties, IPairedItemData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { ZipUpload } from '../../api/handshake';
import { submitZip, waitForBatch } from '../../api/handshake';
import type { BulkOutputSettings } from '../../api/output';
import { bulkEntries, bulkOutput, simplifyBatch, simplifyImage } from '../../api/output';
import { binarySource, readBinary } from '../../helpers/binary';
import {
	checkImage,
	extensionOf,
	MAX_IMAGE_BYTES,
	MAX_IMAGES_PER_ZIP,
	MAX_ZIP_BYTES,
	MIN_IMAGE_BYTES,
	normaliseFileName,
	sniffExtension,
	ZIP_IMAGE_EXTS,
} from '../../helpers/files';
import { crc32, listZip, readEnds, writeStoredZip, zipSize, type ZipEntryPlan, type ZipListing } from '../../helpers/zip';
import { afterSubmission, InputProblem } from '../../transport/errors';
import type { Operation, OperationContext, Plan, WorkUnit } from '../operation';
import { problemIn } from '../operation';
import {
	concurrencyOption,
	deadlineFrom,
	detectionFields,
	optionsOf,
	optionsParameter,
	outputModeParameter,
	simplifyOption,
	timeoutOption,
	waitForResultParameter,
} from './parameters';

const DEFAULT_TIMEOUT = 900;
/** ZIPs built from items are uploaded at most this many at a time (each may be up to 100 MB). */
const MAX_ZIPS_IN_FLIGHT = 2;

const properties: INodeProperties[] = [
	{
		displayName: 'Bulk Source',
		name: 'bulkSource',
		type: 'options',
		options: [
			{ name: 'ZIP File', value: 'zip', description: 'Each input item holds a ZIP of up to 50 images in a binary property' },
			{
				name: 'Images From Items',
				value: 'items',
				description: 'Each input item holds one image; the node packs them into ZIPs of up to 50 images itself',
			},
		],
		default: 'zip',
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the binary property that holds the ZIP (or, from items, each image)',
	},
	waitForResultParameter('Whether to wait until every image is done. Off: the output is the batch ID, to fetch later with Get Result.'),
	outputModeParameter,
	optionsParameter([
		concurrencyOption,
		{
			displayName: 'Generate Analysis Details',
			name: 'generateAnalysisDetails',
			type: 'boolean',
			default: false,
			description: 'Whether to make the detailed written analysis for each image',
		},
		{
			displayName: 'Generate Preview',
			name: 'generatePreview',
			type: 'boolean',
			default: false,
			description: 'Whether to make a preview image for each image',
		},
		{
			displayName: 'Heatmap Overlay',
			name: 'heatmapOverlayed',
			type: 'boolean',
			default: true,
			description: 'Whether heatmaps are blended onto the images. Off: transparent PNGs of the heatmap alone.',
		},
		{
			displayName: 'Model',
			name: 'model',
			type: 'string',
			default: 'generic',
			description: '"generic", "sheerid", or "INSTANCE/generic" to use your dedicated instance',
		},
		{
			displayName: 'Return Partial Results on Timeout',
			name: 'returnPartialResults',
			type: 'boolean',
			default: false,
			description: 'Whether to output the images finished so far (the rest with status "pending") instead of failing when the timeout is reached',
		},
		simplifyOption,
		timeoutOption(DEFAULT_TIMEOUT, 'the whole batch'),
	]),
];

/** Why the server would skip a ZIP entry (the reference's rules), or undefined when it would analyze it. */
function skipReason(path: string, size: number): string | undefined {
	const segments = path.split(/[\\/]/);
	const base = segments[segments.length - 1];
	if (segments.includes('..') || /^([\\/]|[A-Za-z]:)/.test(path)) return 'an unsafe path (".." or absolute) is not allowed';
	// A hidden folder (".thumbs/", "__MACOSX/._x") hides what is in it too.
	if (segments.some((segment) => segment.startsWith('.') && segment !== '.')) return 'hidden files are skipped';
	const ext = extensionOf(base);
	if (ext === 'pdf') return 'PDF is not supported in bulk';
	if (!ZIP_IMAGE_EXTS.includes(ext)) return `".${ext || base}" is not a supported image type`;
	if (size < MIN_IMAGE_BYTES) return 'smaller than 1 KB';
	if (size > MAX_IMAGE_BYTES) return 'larger than 10 MB';
	return undefined;
}

/** What one bulk request needs from the parameters (read from the first item when items are packed together). */
interface BulkSettings {
	body: IDataObject;
	wait: boolean;
	output: BulkOutputSettings;
	partial: boolean;
	deadline: number;
	timeoutSeconds: number;
}

function settingsOf(context: OperationContext, itemIndex: number): BulkSettings {
	const options = optionsOf(context.n8n, itemIndex);
	return {
		body: detectionFields(options, { preview: false, analysis: false }),
		wait: context.n8n.getNodeParameter('waitForResult', itemIndex, true) as boolean,
		output: { mode: context.n8n.getNodeParameter('outputMode', itemIndex, 'perImage') as 'perImage' | 'perBatch', simplify: options.simplify !== false },
		partial: options.returnPartialResults === true,
		...deadlineFrom(options, DEFAULT_TIMEOUT),
	};
}

/** Submits one ZIP and, when asked, waits for the batch: its answer, or none (not waited for). */
async function detectZip(context: OperationContext, zip: ZipUpload, settings: BulkSettings, itemIndex: number) {
	const { batchId, expectedCount, submittedAt } = await submitZip(context.api, zip, settings.body, { itemIndex, deadline: settings.deadline });
	if (!settings.wait) return { batchId, expectedCount, answer: undefined };
	const answer = await afterSubmission(context.n8n, { batchId }, async () => await waitForBatch(context, batchId, { ...settings, submittedAt, expectedCount, itemIndex }));
	return { batchId, expectedCount, answer };
}

// ---- From one ZIP per item -------------------------------------------------------------------------------------

/** How much of a ZIP's end is kept while checking it: its directory, for far more entries than 50 images need. */
const ZIP_TAIL_BYTES = 1024 * 1024;
const ZIP_HINT = 'Put a node that reads the ZIP before this one, or use Bulk Source "Images From Items" to let the node build the ZIPs.';

/** What the plan learned of an item's ZIP, so that the upload can stream it without reading it again. */
interface CheckedZip {
	fileName: string;
	size: number;
	imageCount: number;
}

/**
 * An item's ZIP, checked as the service would: at most 100 MB (from its metadata, before reading it), a ZIP,
 * readable, with 1 to 50 images it would analyze.
 */
async function checkZipItem(context: OperationContext, itemIndex: number): Promise<CheckedZip> {
	const source = await binarySource(context.n8n, itemIndex, zipProperty(context, itemIndex), ZIP_HINT);
	if (source.size > MAX_ZIP_BYTES) {
		throw new InputProblem(
			`The ZIP is too large (${(source.size / 1024 / 1024).toFixed(1)} MB; at most 100 MB)`,
			'Split it into several ZIPs, or use Bulk Source "Images From Items", which splits for you.',
		);
	}
	// Only its first bytes (what it is) and its end (the directory that lists it) are kept while it streams past.
	const opened = await source.open();
	const ends = Buffer.isBuffer(opened) ? { head: opened, tail: opened, tailStart: 0 } : await readEnds(opened, 4096, ZIP_TAIL_BYTES);
	if (sniffExtension(ends.head) !== 'zip') {
		throw new InputProblem(
			`The file "${source.meta.fileName ?? zipProperty(context, itemIndex)}" is not a ZIP`,
			'Bulk Source "ZIP File" needs a .zip of images. For single images, use Bulk Source "Images From Items" or Detect.',
		);
	}
	// A directory larger than the tail kept (tens of thousands of entries) is read from the whole file.
	const listing = listZip(ends.tail, ends.tailStart) ?? (ends.tailStart > 0 ? listZip(await context.n8n.helpers.getBinaryDataBuffer(itemIndex, zipProperty(context, itemIndex))) : undefined);
	const imageCount = countImages(listing);
	let fileName = normaliseFileName(source.meta.fileName, 'application/zip', 'images');
	if (extensionOf(fileName) !== 'zip') fileName = `${fileName.replace(/\.[^.]*$/, '')}.zip`;
	return { fileName, size: source.size, imageCount };
}

const zipProperty = (context: OperationContext, itemIndex: number) => String(context.n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim();

/** How many entries of the ZIP the service would analyze; none, or more than 50, is a problem. */
function countImages(listing: ZipListing[] | undefined): number {
	if (!listing) throw new InputProblem('The ZIP cannot be read (its directory is missing or damaged)', 'Create the ZIP again.');
	const reasons = listing.filter((e) => !e.directory).map((e) => ({ name: e.name, why: skipReason(e.name, e.size) }));
	const valid = reasons.filter((r) => !r.why).length;
	if (valid > MAX_IMAGES_PER_ZIP) {
		throw new InputProblem(
			`The ZIP holds ${valid} images; at most ${MAX_IMAGES_PER_ZIP} are allowed per bulk request`,
			'Split it into ZIPs of 50 images, or use Bulk Source "Images From Items", which splits for you.',
		);
	}
	if (!valid) {
		const some = reasons.slice(0, 5).map((r) => `${r.name}: ${r.why}`).join('; ');
		throw new InputProblem(
			`No image in the ZIP can be analyzed${some ? ` (${some})` : ' (it is empty)'}`,
			'Use JPG, PNG, WebP, HEIC, HEIF, AVIF, BMP, TIFF, GIF or SVG files between 1 KB and 10 MB; no PDF, no hidden files.',
		);
	}
	return valid;
}

/** One item's checked ZIP, streamed from n8n's binary data store to storage (never held whole), then waited for. */
async function detectZipItem(context: OperationContext, itemIndex: number, zip: CheckedZip): Promise<INodeExecutionData[]> {
	const settings = settingsOf(context, itemIndex);
	const source = await binarySource(context.n8n, itemIndex, zipProperty(context, itemIndex), ZIP_HINT);
	if (source.size !== zip.size) throw new InputProblem(`The ZIP of item ${itemIndex} changed while the node ran`, 'Run the node again.');
	const { batchId, expectedCount, answer } = await detectZip(context, { ...zip, body: source.open }, settings, itemIndex);
	if (!answer) return [{ json: { batchId, status: 'pending', expectedCount: expectedCount ?? zip.imageCount, fileName: zip.fileName } }];
	return bulkOutput(answer, { ...settings.output, expectedCount });
}

// ---- From the images of all input items ------------------------------------------------------------------------

interface PlannedImage extends ZipEntryPlan {
	itemIndex: number;
}

/** A unit of Bulk Detect: one item's checked ZIP, or (from items) the images to pack into one ZIP. */
interface BulkUnit extends WorkUnit {
	zip?: CheckedZip;
	images?: PlannedImage[];
}

/** Splits images into ZIPs of at most 50 images and 100 MB, with unique names inside each. */
export function packIntoZips<T extends ZipEntryPlan>(images: T[]): T[][] {
	const zips: T[][] = [];
	let current: T[] = [];
	let names = new Set<string>();
	for (const image of images) {
		if (current.length && (current.length >= MAX_IMAGES_PER_ZIP || zipSize([...current, image]) > MAX_ZIP_BYTES)) {
			zips.push(current);
			current = [];
			names = new Set();
		}
		let name = image.name;
		for (let n = 2; names.has(name.toLowerCase()); n++) name = image.name.replace(/(\.[^.]+)?$/, `-${n}$1`);
		names.add(name.toLowerCase());
		current.push({ ...image, name });
	}
	if (current.length) zips.push(current);
	return zips;
}

/** Checks every image before anything is uploaded (what the service would skip is reported per item), then packs them. */
async function planFromItems(context: OperationContext, itemIndexes: number[]): Promise<Plan<BulkUnit>> {
	const { n8n } = context;
	const problems = new Map<number, Error>();
	// The options hold for every item's image: a bad one is every item's problem.
	const optionsProblem = await problemIn(n8n, async () => settingsOf(context, 0));
	if (optionsProblem) return { units: [], problems: new Map(itemIndexes.map((itemIndex) => [itemIndex, optionsProblem])) };
	const property = String(n8n.getNodeParameter('binaryPropertyName', 0, 'data')).trim();
	const planned: PlannedImage[] = [];
	for (const itemIndex of itemIndexes) {
		const problem = await problemIn(n8n, async () => {
			const { meta, bytes } = await readBinary(n8n, itemIndex, property, 'Every input item needs its image in a binary property; put a node that reads the images before this one.');
			const name = normaliseFileName(meta.fileName, meta.mimeType, `image-${itemIndex}`);
			checkImage(name, bytes, false);
			planned.push({ itemIndex, name, size: bytes.length, crc: crc32(bytes) });
		});
		if (problem) problems.set(itemIndex, problem);
	}
	const units = packIntoZips(planned).map((images) => ({ itemIndexes: images.map((image) => image.itemIndex), images }));
	const concurrency = Math.min(MAX_ZIPS_IN_FLIGHT, Number(optionsOf(n8n, 0).concurrency ?? 5) || 1);
	return { units, problems, concurrency };
}

async function detectPackedImages(context: OperationContext, images: PlannedImage[]): Promise<Map<number, INodeExecutionData[]>> {
	const { n8n } = context;
	const settings = settingsOf(context, 0);
	const property = String(n8n.getNodeParameter('binaryPropertyName', 0, 'data')).trim();
	const first = images[0].itemIndex;
	// The ZIP is written straight into one buffer, reading each image again: never two copies of them all.
	const bytes = await writeStoredZip(images, (k) => n8n.helpers.getBinaryDataBuffer(images[k].itemIndex, property));
	const zip = { body: bytes, size: bytes.length, fileName: `images-${first}.zip`, imageCount: images.length };
	const { batchId, expectedCount, answer } = await detectZip(context, zip, settings, first);
	const batch = answer ?? {
		id: batchId,
		status: 'pending',
		results: images.map((image) => ({ id: null, status: 'pending', result: null, result_details: null, filename: image.name })),
		skipped: [],
	};
	return distribute(images, batch, { ...settings.output, expectedCount });
}

/** Hands each image's result back to the input item it came from. */
function distribute(images: PlannedImage[], answer: IDataObject, settings: BulkOutputSettings): Map<number, INodeExecutionData[]> {
	const out = new Map<number, INodeExecutionData[]>();
	if (settings.mode === 'perBatch') {
		const pairedItem: IPairedItemData[] = images.map((image) => ({ item: image.itemIndex }));
		out.set(images[0].itemIndex, [{ json: settings.simplify ? simplifyBatch(answer, settings.expectedCount) : answer, pairedItem }]);
		for (const image of images.slice(1)) out.set(image.itemIndex, []);
		return out;
	}
	const byName = new Map(bulkEntries(answer).map((entry) => [String(entry.filename ?? '').toLowerCase(), entry]));
	images.forEach((image, k) => {
		// By name first (the ZIP's names are unique and already safe); by position if the server renamed it.
		const entry = byName.get(image.name.toLowerCase()) ?? (answer.results as IDataObject[] | undefined)?.[k];
		const json: IDataObject = entry
			? { batchId: answer.id, ...(settings.simplify ? simplifyImage(entry, image.name) : entry) }
			: { batchId: answer.id, status: 'failed', fileName: image.name, error: 'The service did not report this image' };
		out.set(image.itemIndex, [{ json }]);
	});
	return out;
}

// ---- The operation ---------------------------------------------------------------------------------------------

const fromItems = (context: OperationContext) => context.n8n.getNodeParameter('bulkSource', 0, 'zip') === 'items';

export const bulkDetect: Operation<BulkUnit> = {
	description: updateDisplayOptions({ show: { resource: ['image'], operation: ['bulkDetect'] } }, properties),
	async plan(context, itemIndexes) {
		if (fromItems(context)) return await planFromItems(context, itemIndexes);
		const problems = new Map<number, Error>();
		const units: BulkUnit[] = [];
		for (const itemIndex of itemIndexes) {
			const problem = await problemIn(context.n8n, async () => {
				settingsOf(context, itemIndex);
				units.push({ itemIndexes: [itemIndex], zip: await checkZipItem(context, itemIndex) });
			});
			if (problem) problems.set(itemIndex, problem);
		}
		return { units, problems };
	},
	async execute(context, unit) {
		if (unit.images) return await detectPackedImages(context, unit.images);
		return new Map([[unit.itemIndexes[0], await detectZipItem(context, unit.itemIndexes[0], unit.zip as CheckedZip)]]);
	},
};
