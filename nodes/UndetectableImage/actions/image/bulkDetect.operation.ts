import type { IDataObject, INodeExecutionData, INodeProperties, IPairedItemData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { ZipUpload } from '../../api/handshake';
import { submitZip, waitForBatch } from '../../api/handshake';
import type { BulkOutputSettings } from '../../api/output';
import { besideInput, bulkEntries, bulkOutput, forModel, simplifyBatch, simplifyImage, skippedFile } from '../../api/output';
import type { InputFile, Selected } from '../../helpers/binary';
import { fileLabel, opener, readFile, selectFiles, sizeOf } from '../../helpers/binary';
import {
	checkImage,
	checkImageSize,
	extensionOf,
	MAX_IMAGE_BYTES,
	MAX_IMAGES_PER_ZIP,
	MAX_ZIP_BYTES,
	MIN_IMAGE_BYTES,
	normaliseFileName,
	sniffExtension,
	uploadNameFor,
	ZIP_IMAGE_EXTS,
} from '../../helpers/files';
import { crc32, listZip, readEnds, writeStoredZip, zipSize, type ZipEntryPlan, type ZipListing } from '../../helpers/zip';
import { afterSubmission, InputProblem } from '../../transport/errors';
import type { Operation, OperationContext, Plan, Slot, SlotOutput, SlotProblem, WorkUnit } from '../operation';
import { checkSelected, problemIn, slotOf } from '../operation';
import {
	binaryFieldHint,
	concurrencyOption,
	deadlineFrom,
	detectionFields,
	filesParameter,
	includeInputFieldsOption,
	optionsOf,
	optionsParameter,
	outputModeParameter,
	simplifyOption,
	timeoutOption,
	toolDescriptionParameter,
	waitForResultParameter,
} from './parameters';

const DEFAULT_TIMEOUT = 900;
/** ZIPs built from items are uploaded at most this many at a time (each may be up to 100 MB). */
const MAX_ZIPS_IN_FLIGHT = 2;

const properties: INodeProperties[] = [
	toolDescriptionParameter(
		'Not usable by an AI model: it checks ZIP files or image files, and a tool receives none (only the model\'s arguments). ' +
			'To check an image, use the Detect operation with imageUrl.',
	),
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
	{ ...filesParameter('packed into the ZIPs'), displayOptions: { show: { bulkSource: ['items'] } } },
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: `The binary field that holds the ZIP (or, from items, each image). ${binaryFieldHint}`,
		displayOptions: { hide: { inputFiles: ['allImages'] } },
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
		{ ...includeInputFieldsOption, displayOptions: { show: { '/bulkSource': ['items'] } } },
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

// ---- From one ZIP per file ------------------------------------------------------------------------------------

/** How much of a ZIP's end is kept while checking it: its directory, for far more entries than 50 images need. */
const ZIP_TAIL_BYTES = 1024 * 1024;
const ZIP_HINT = 'Put a node that reads the ZIP before this one, or use Bulk Source "Images From Items" to let the node build the ZIPs.';

/** What the plan learned of a ZIP, so that the upload can stream it without reading it again. */
interface CheckedZip {
	file: InputFile;
	fileName: string;
	size: number;
	imageCount: number;
}

/** The ZIP files an item names (one field, or several: each its own bulk request). */
function zipFilesOf(context: OperationContext, itemIndex: number): Selected[] {
	const value = context.n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data');
	return selectFiles(context.n8n, itemIndex, { kind: 'named', value, parameter: 'Input Binary Field' }, ZIP_HINT);
}

/**
 * A ZIP, checked as the service would: at most 100 MB (from its metadata, before reading it), a ZIP, readable,
 * with 1 to 50 images it would analyze.
 */
async function checkZip(context: OperationContext, file: InputFile): Promise<CheckedZip> {
	const size = await sizeOf(context.n8n, file);
	if (size > MAX_ZIP_BYTES) {
		throw new InputProblem(
			`The ZIP is too large (${(size / 1024 / 1024).toFixed(1)} MB; at most 100 MB)`,
			'Split it into several ZIPs, or use Bulk Source "Images From Items", which splits for you.',
		);
	}
	// Only its first bytes (what it is) and its end (the directory that lists it) are kept while it streams past.
	const opened = await opener(context.n8n, file)();
	const ends = Buffer.isBuffer(opened) ? { head: opened, tail: opened, tailStart: 0 } : await readEnds(opened, 4096, ZIP_TAIL_BYTES);
	if (sniffExtension(ends.head) !== 'zip') {
		throw new InputProblem(
			`The file "${file.meta.fileName ?? file.field}" is not a ZIP`,
			'Bulk Source "ZIP File" needs a .zip of images. For single images, use Bulk Source "Images From Items" or Detect.',
		);
	}
	// A directory larger than the tail kept (tens of thousands of entries) is read from the whole file.
	const listing = listZip(ends.tail, ends.tailStart) ?? (ends.tailStart > 0 ? listZip(await readFile(context.n8n, file)) : undefined);
	const imageCount = countImages(listing);
	let fileName = normaliseFileName(file.meta.fileName, 'application/zip', 'images');
	if (extensionOf(fileName) !== 'zip') fileName = `${fileName.replace(/\.[^.]*$/, '')}.zip`;
	return { file, fileName, size, imageCount };
}

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

/** One checked ZIP, streamed from n8n's binary data store to storage (never held whole), then waited for. */
async function detectZipFile(context: OperationContext, slot: Slot, zip: CheckedZip): Promise<INodeExecutionData[]> {
	const { itemIndex } = slot;
	const settings = settingsOf(context, itemIndex);
	if ((await sizeOf(context.n8n, zip.file)) !== zip.size) throw new InputProblem(`The ZIP of item ${itemIndex} changed while the node ran`, 'Run the node again.');
	const upload = { fileName: zip.fileName, size: zip.size, imageCount: zip.imageCount, body: opener(context.n8n, zip.file) };
	const { batchId, expectedCount, answer } = await detectZip(context, upload, settings, itemIndex);
	if (!answer) return [{ json: { batchId, status: 'pending', expectedCount: expectedCount ?? zip.imageCount, fileName: zip.file.meta.fileName ?? zip.fileName } }];
	const items = bulkOutput(answer, { ...settings.output, expectedCount });
	return context.tool && settings.output.simplify ? items.map((item) => ({ json: forModel(item.json) })) : items;
}

// ---- From the images of all input items ------------------------------------------------------------------------

interface PlannedImage extends ZipEntryPlan, Slot {
	file: InputFile;
}

/** A unit of Bulk Detect: one checked ZIP, or (from items) the images to pack into one ZIP. */
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

const everyImageOf = (context: OperationContext) => context.n8n.getNodeParameter('inputFiles', 0, 'named') === 'allImages';

function skippedImage(context: OperationContext, slot: Slot, file: InputFile | undefined, reason: string): SlotOutput {
	const json = skippedFile(file && { fileName: file.meta.fileName, field: file.field }, reason);
	return { ...slot, items: [{ json: withInputFields(context, slot.itemIndex, json) }] };
}

/**
 * Checks every image of every item before anything is uploaded (what the service would skip is reported per
 * file; under "every image", a file that is no image is a "skipped" output), then packs them.
 */
async function planFromItems(context: OperationContext, itemIndexes: number[]): Promise<Plan<BulkUnit>> {
	const { n8n } = context;
	const problems: SlotProblem[] = [];
	const done: SlotOutput[] = [];
	// The options hold for every item's image: a bad one is every item's problem.
	const optionsProblem = await problemIn(n8n, async () => settingsOf(context, 0));
	if (optionsProblem) return { units: [], problems: itemIndexes.map((itemIndex) => ({ ...slotOf(itemIndex), error: optionsProblem })) };
	const everyImage = everyImageOf(context);
	const planned: PlannedImage[] = [];
	for (const itemIndex of itemIndexes) {
		let files: Selected[] = [];
		const problem = await problemIn(n8n, async () => {
			// Per item: an expression such as {{ $binary.attachment_0 }} gives each item its own file.
			const value = n8n.getNodeParameter('binaryPropertyName', itemIndex, 'data');
			const selection = everyImage ? { kind: 'all' as const } : { kind: 'named' as const, value, parameter: 'Input Binary Field' };
			files = selectFiles(n8n, itemIndex, selection, 'Every input item needs its image in a binary field; put a node that reads the images before this one.');
		});
		if (problem) {
			problems.push({ ...slotOf(itemIndex), error: problem });
			continue;
		}
		if (everyImage && !files.length) done.push(skippedImage(context, slotOf(itemIndex), undefined, 'The item has no files'));
		const skip = everyImage ? (slot: Slot, file: InputFile, reason: string) => skippedImage(context, slot, file, reason) : undefined;
		const checked = await checkSelected(n8n, itemIndex, files, async (file) => await checkPackedImage(context, file), { problems, done }, skip);
		for (const { slot, file, checked: image } of checked) planned.push({ ...slot, file, ...image, name: uploadNameFor(file.meta.fileName, image.type, `image-${itemIndex}-${slot.part}`) });
	}
	const oneOutput = settingsOf(context, 0).output.mode === 'perBatch';
	const units = packIntoZips(planned).map((images) => ({
		slots: images.map((image): Slot => ({ itemIndex: image.itemIndex, part: image.part })),
		labels: images.map((image) => fileLabel(image.file)),
		oneOutput,
		images,
	}));
	const concurrency = Math.min(MAX_ZIPS_IN_FLIGHT, Number(optionsOf(n8n, 0).concurrency ?? 5) || 1);
	return { units, problems, done, concurrency };
}

/** An image to pack, checked as the API would take it in a ZIP (no PDF); a file far over 10 MB is refused unread. */
async function checkPackedImage(context: OperationContext, file: InputFile) {
	const userName = file.meta.fileName ?? file.field;
	const size = await sizeOf(context.n8n, file);
	if (size > MAX_IMAGE_BYTES) checkImageSize(userName, size);
	const bytes = await readFile(context.n8n, file);
	return { type: checkImage(userName, bytes, false, file.meta.mimeType), size: bytes.length, crc: crc32(bytes) };
}

/** The options hold for every packed image: they are read from the first item. */
const withInputFields = (context: OperationContext, itemIndex: number, json: IDataObject) =>
	besideInput(context.n8n.getInputData()[itemIndex].json, json, optionsOf(context.n8n, 0).includeInputFields === true);

async function detectPackedImages(context: OperationContext, images: PlannedImage[]): Promise<SlotOutput[]> {
	const { n8n } = context;
	const settings = settingsOf(context, 0);
	const first = images[0].itemIndex;
	// The ZIP is written straight into one buffer, reading each image again: never two copies of them all.
	const bytes = await writeStoredZip(images, async (k) => await readFile(n8n, images[k].file));
	const zip = { body: bytes, size: bytes.length, fileName: `images-${first}.zip`, imageCount: images.length };
	const { batchId, expectedCount, answer } = await detectZip(context, zip, settings, first);
	const batch = answer ?? {
		id: batchId,
		status: 'pending',
		results: images.map((image) => ({ id: null, status: 'pending', result: null, result_details: null, filename: image.name })),
		skipped: [],
	};
	return distribute(context, images, batch, { ...settings.output, expectedCount });
}

/** Hands each image's result back to the input item (and file) it came from. */
function distribute(context: OperationContext, images: PlannedImage[], answer: IDataObject, settings: BulkOutputSettings): SlotOutput[] {
	if (settings.mode === 'perBatch') {
		const pairedItem: IPairedItemData[] = [...new Set(images.map((image) => image.itemIndex))].map((item) => ({ item }));
		const json = settings.simplify ? simplifyBatch(answer, settings.expectedCount) : answer;
		return images.map((image, k) => ({ itemIndex: image.itemIndex, part: image.part, items: k === 0 ? [{ json, pairedItem }] : [] }));
	}
	const byName = new Map(bulkEntries(answer).map((entry) => [String(entry.filename ?? '').toLowerCase(), entry]));
	return images.map((image, k) => {
		// By name first (the ZIP's names are unique and already safe); by position if the server renamed it.
		const entry = byName.get(image.name.toLowerCase()) ?? (answer.results as IDataObject[] | undefined)?.[k];
		const userName = image.file.meta.fileName ?? image.name;
		const described = { fileName: userName, uploadFileName: image.name, binaryField: image.file.field };
		let json: IDataObject = entry
			? { batchId: answer.id, ...(settings.simplify ? { ...simplifyImage(entry, userName), ...described } : entry) }
			: { batchId: answer.id, status: 'failed', ...described, error: 'The service did not report this image' };
		if (context.tool && settings.simplify) json = forModel(json);
		else json = withInputFields(context, image.itemIndex, json);
		return { itemIndex: image.itemIndex, part: image.part, items: [{ json }] };
	});
}

// ---- The operation ---------------------------------------------------------------------------------------------

const fromItems = (context: OperationContext) => context.n8n.getNodeParameter('bulkSource', 0, 'zip') === 'items';

export const bulkDetect: Operation<BulkUnit> = {
	description: updateDisplayOptions({ show: { resource: ['image'], operation: ['bulkDetect'] } }, properties),
	async plan(context, itemIndexes) {
		if (fromItems(context)) return await planFromItems(context, itemIndexes);
		const problems: SlotProblem[] = [];
		const done: SlotOutput[] = [];
		const units: BulkUnit[] = [];
		for (const itemIndex of itemIndexes) {
			let files: Selected[] = [];
			const problem = await problemIn(context.n8n, async () => {
				settingsOf(context, itemIndex);
				files = zipFilesOf(context, itemIndex);
			});
			if (problem) {
				problems.push({ ...slotOf(itemIndex), error: problem });
				continue;
			}
			for (const { slot, file, checked: zip } of await checkSelected(context.n8n, itemIndex, files, async (f) => await checkZip(context, f), { problems, done })) {
				units.push({ slots: [slot], labels: [fileLabel(file)], zip });
			}
		}
		return { units, problems, done };
	},
	async execute(context, unit) {
		if (unit.images) return await detectPackedImages(context, unit.images);
		const slot = unit.slots[0];
		return [{ ...slot, items: await detectZipFile(context, slot, unit.zip as CheckedZip) }];
	},
};
