import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { simplifyImage } from '../../api/output';
import { checkDocumentId, checkHttpUrl, checkImage, checkModel, InputProblem, normaliseFileName } from '../../helpers/files';
import type { Operation, RunContext } from '../common';
import {
	concurrencyOption,
	deadlineFor,
	fetchAssetFile,
	failedDetection,
	optionsOf,
	optionsParameter,
	readBinary,
	simplifyOption,
	timeoutOption,
	waitForAnalysisOption,
	waitForDocument,
	waitForHeatmapOption,
	waitForResultParameter,
} from '../common';

const show = { resource: ['image'], operation: ['detect'] };
const DEFAULT_TIMEOUT = 300;

export const description: INodeProperties[] = [
	{
		displayName: 'Input Source',
		name: 'inputSource',
		type: 'options',
		options: [
			{ name: 'Binary File', value: 'binary', description: 'An image in a binary property of the input item' },
			{ name: 'Image URL', value: 'url', description: 'An image on the web; the node downloads it, then uploads it' },
		],
		default: 'binary',
		displayOptions: { show },
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the binary property that holds the image',
		displayOptions: { show: { ...show, inputSource: ['binary'] } },
	},
	{
		displayName: 'Image URL',
		name: 'imageUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/photo.jpg',
		description: 'The address of the image to check',
		displayOptions: { show: { ...show, inputSource: ['url'] } },
	},
	waitForResultParameter(
		show,
		'Whether to wait until the score is ready. Off: the item is the document ID with status "pending", to fetch later with Get Result.',
	),
	optionsParameter(show, [
		concurrencyOption,
		{
			displayName: 'Document ID',
			name: 'documentId',
			type: 'string',
			default: '',
			placeholder: '77565038-9e3d-4e6a-8c80-e20785be5ee9',
			description: 'Your own UUID for the new document. Empty: the node makes one. It must not exist yet.',
		},
		{
			displayName: 'Document Type',
			name: 'documentType',
			type: 'string',
			default: 'Image',
			description: 'The API\'s document_type',
		},
		{
			displayName: 'Download Heatmap',
			name: 'downloadHeatmap',
			type: 'boolean',
			default: false,
			description: 'Whether to wait for the heatmap and attach it to the output item as a file',
		},
		{
			displayName: 'Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@email.com',
			default: '',
			description: 'Email address for processing (the API\'s email)',
		},
		{
			displayName: 'File Name',
			name: 'fileName',
			type: 'string',
			default: '',
			placeholder: 'photo.jpg',
			description: 'The name to upload the image under. Empty: the binary file name, or the URL\'s. Its extension sets the file type.',
		},
		{
			displayName: 'Generate Analysis Details',
			name: 'generateAnalysisDetails',
			type: 'boolean',
			default: true,
			description: 'Whether to make the detailed written analysis (ready a little after the score)',
		},
		{
			displayName: 'Generate Preview',
			name: 'generatePreview',
			type: 'boolean',
			default: true,
			description: 'Whether to make a preview image (previewUrl, Download Preview)',
		},
		{
			displayName: 'Heatmap Binary Field',
			name: 'heatmapBinaryPropertyName',
			type: 'string',
			default: 'heatmap',
			description: 'With Download Heatmap: the binary property to put the heatmap in',
		},
		{
			displayName: 'Heatmap Overlay',
			name: 'heatmapOverlayed',
			type: 'boolean',
			default: true,
			description:
				'Whether the heatmap is blended onto the image. Off: a transparent PNG of the heatmap alone, to layer yourself.',
		},
		{
			displayName: 'Model',
			name: 'model',
			type: 'string',
			default: 'generic',
			placeholder: 'generic',
			description: '"generic", "sheerid", or "INSTANCE/generic" to use your dedicated instance',
		},
		simplifyOption,
		timeoutOption(DEFAULT_TIMEOUT, 'the result'),
		{
			displayName: 'User Agent',
			name: 'userAgent',
			type: 'string',
			default: '',
			description: 'A string stored with the document for analytics and support',
		},
		waitForAnalysisOption,
		waitForHeatmapOption,
	]),
];

interface DetectInput {
	bytes: Buffer;
	fileName: string;
	contentType: string;
}

/** The /detect body from the options, checked before anything is sent. */
function detectBody(options: IDataObject): IDataObject {
	const body: IDataObject = {
		generate_preview: options.generatePreview ?? true,
		generate_analysis_details: options.generateAnalysisDetails ?? true,
		generate_heatmap_overlayed: options.heatmapOverlayed ?? true,
	};
	const model = checkModel(options.model);
	if (model) body.model = model;
	if (options.documentId) body.id = checkDocumentId(options.documentId, 'The Document ID option');
	if (options.documentType && options.documentType !== 'Image') body.document_type = String(options.documentType);
	if (options.email) {
		const email = String(options.email).trim();
		if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
			throw new InputProblem(`The Email option "${email.slice(0, 60)}" is not an email address`, 'Enter an address like name@example.com, or leave it empty.');
		}
		body.email = email;
	}
	if (options.userAgent) body.user_agent = String(options.userAgent);
	if (body.document_type === 'URL' && !body.email) {
		throw new InputProblem('Document Type "URL" needs an email address', 'Set the Email option.');
	}
	return body;
}

/** The image of one item, from its binary property or its URL, checked against the reference's limits. */
async function loadImage(run: RunContext, itemIndex: number, options: IDataObject): Promise<DetectInput> {
	const { fn, api } = run;
	const override = String(options.fileName ?? '').trim();
	if (fn.getNodeParameter('inputSource', itemIndex, 'binary') === 'url') {
		const url = checkHttpUrl(fn.getNodeParameter('imageUrl', itemIndex, ''));
		const reply = await api.download(url, 'downloading the image from its URL', itemIndex);
		const bytes = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body ?? ''));
		const mime = reply.headers['content-type'];
		const fileName = normaliseFileName(override || new URL(url).pathname, override ? undefined : mime);
		return { bytes, fileName, contentType: checkImage(fileName, bytes) };
	}
	const property = String(fn.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim();
	const { meta, bytes } = await readBinary(
		fn,
		itemIndex,
		property,
		'The item has no binary data at all. Put a node that reads or downloads the image (Read/Write Files from Disk, HTTP Request, Google Drive, ...) before this one, or use Input Source "Image URL".',
	);
	const fileName = normaliseFileName(override || meta.fileName, override ? undefined : meta.mimeType);
	return { bytes, fileName, contentType: checkImage(fileName, bytes) };
}

export async function execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { fn, api } = run;
	const options = optionsOf(fn, itemIndex);
	const body = detectBody(options);
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);
	const wait = fn.getNodeParameter('waitForResult', itemIndex, true) as boolean;

	// The handshake. The image's bytes live only until the upload is done.
	let image: DetectInput | undefined = await loadImage(run, itemIndex, options);
	const { fileName } = image;
	const presigned = await api.presign(fileName, itemIndex);
	await api.upload(presigned.presignedUrl, image.bytes, image.contentType, itemIndex);
	image = undefined;
	const since = Date.now();
	const id = await api.detect({ ...body, url: api.storageUrl(presigned.filePath) }, itemIndex);

	if (!wait) return [{ json: { id, status: 'pending', fileName } }];

	const downloadHeatmap = options.downloadHeatmap === true;
	const settings = {
		deadline,
		timeoutSeconds,
		since,
		waitForHeatmap: options.waitForHeatmap === true || downloadHeatmap,
		waitForAnalysis: options.waitForAnalysis === true,
		itemIndex,
		label: fileName,
	};
	const answer = await waitForDocument(run, id, settings);
	if (answer.status === 'failed') throw failedDetection(fn, answer, itemIndex);

	const json = options.simplify === false ? answer : simplifyImage(answer, fileName);
	// The checked image rides along, so a storage node after this one can file it by its verdict.
	const out: INodeExecutionData = { json, binary: { ...fn.getInputData()[itemIndex].binary } };
	if (downloadHeatmap) {
		const file = await fetchAssetFile(run, 'heatmap', id, settings, answer).catch((error: Error) => error);
		if (file instanceof NodeOperationError && file.context.noAsset) {
			// The heatmap is optional: an image without one keeps its verdict, and says why it has no file.
			json.heatmapError = file.message;
		} else if (file instanceof Error) {
			throw file;
		} else {
			const property = String(options.heatmapBinaryPropertyName || 'heatmap');
			out.binary![property] = await fn.helpers.prepareBinaryData(file.bytes, file.fileName, file.mimeType);
		}
	}
	if (!Object.keys(out.binary!).length) delete out.binary;
	return [out];
}

export const detect: Operation = { description, execute };
