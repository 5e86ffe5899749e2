// Parameters that several image operations share, as plain definitions; each operation shows them for itself with
// n8n's updateDisplayOptions. And the reading of the options they hold.
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { checkModel } from '../../helpers/files';
import { InputProblem } from '../../transport/errors';

export const waitForResultParameter = (description: string): INodeProperties => ({
	displayName: 'Wait for Result',
	name: 'waitForResult',
	type: 'boolean',
	default: true,
	description,
});

export const optionsParameter = (options: INodeProperties[]): INodeProperties => ({
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options,
});

export const documentIdParameter = (description: string): INodeProperties => ({
	displayName: 'Document ID',
	name: 'documentId',
	type: 'string',
	default: '',
	required: true,
	placeholder: '77565038-9e3d-4e6a-8c80-e20785be5ee9',
	description,
});

export const outputModeParameter: INodeProperties = {
	displayName: 'Output',
	name: 'outputMode',
	type: 'options',
	options: [
		{ name: 'One Item per Image', value: 'perImage', description: 'Each image of the batch as its own item' },
		{ name: 'One Item per Batch', value: 'perBatch', description: 'Each bulk request as one item with its results and counts' },
	],
	default: 'perImage',
};

export const timeoutOption = (defaultSeconds: number, what: string): INodeProperties => ({
	displayName: 'Timeout (Seconds)',
	name: 'timeout',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: defaultSeconds,
	description: `How long to wait for ${what} before the node stops with an error that names the document ID to fetch later`,
});

export const concurrencyOption: INodeProperties = {
	displayName: 'Concurrency',
	name: 'concurrency',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 20 },
	default: 5,
	description: 'How many input items are processed at the same time. Lower it if the API rate-limits you.',
};

export const simplifyOption: INodeProperties = {
	displayName: 'Simplify Output',
	name: 'simplify',
	type: 'boolean',
	default: true,
	description: "Whether to return flat fields (score, verdict, heatmapUrl, ...) instead of the API's whole response",
};

export const waitForHeatmapOption: INodeProperties = {
	displayName: 'Wait for Heatmap',
	name: 'waitForHeatmap',
	type: 'boolean',
	default: false,
	description: 'Whether to wait until the heatmap is ready (it is made a little after the score), so heatmapUrl is set',
};

export const waitForAnalysisOption: INodeProperties = {
	displayName: 'Wait for Analysis',
	name: 'waitForAnalysis',
	type: 'boolean',
	default: false,
	description: 'Whether to wait until the detailed analysis is ready (it is made after the score), so analysis is set',
};

/** The `options` collection of an item as a plain object. */
export function optionsOf(n8n: IExecuteFunctions, itemIndex: number): IDataObject {
	return n8n.getNodeParameter('options', itemIndex, {}) as IDataObject;
}

/**
 * The Timeout option as a deadline from now. A value that is not a positive number is refused (before anything is
 * sent), rather than quietly becoming the default.
 */
export function deadlineFrom(options: IDataObject, defaultSeconds: number): { deadline: number; timeoutSeconds: number } {
	const raw = options.timeout ?? defaultSeconds;
	const timeoutSeconds = typeof raw === 'number' ? raw : Number(String(raw).trim() || NaN);
	if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
		throw new InputProblem(`The Timeout option "${String(raw).slice(0, 40)}" is not a positive number of seconds`, `Set it to a number above 0, or remove it to use the default (${defaultSeconds} s).`);
	}
	return { timeoutSeconds, deadline: Date.now() + timeoutSeconds * 1000 };
}

/**
 * The fields /detect and /bulk-upload share, from the options. Their defaults differ per the reference: a single
 * image gets a preview and the analysis unless turned off; a bulk batch gets neither unless turned on.
 */
export function detectionFields(options: IDataObject, defaults: { preview: boolean; analysis: boolean }): IDataObject {
	const fields: IDataObject = {
		generate_preview: options.generatePreview ?? defaults.preview,
		generate_analysis_details: options.generateAnalysisDetails ?? defaults.analysis,
		generate_heatmap_overlayed: options.heatmapOverlayed ?? true,
	};
	const model = checkModel(options.model);
	if (model) fields.model = model;
	return fields;
}

/** Which files of an item an operation checks: the fields named in "Input Binary Field", or every image. */
export const filesParameter = (what: string): INodeProperties => ({
	displayName: 'Files',
	name: 'inputFiles',
	type: 'options',
	options: [
		{
			name: 'Every Image of the Item',
			value: 'allImages',
			description: `Each image file the item holds (form uploads, email attachments), ${what}; files that are no image, or too small or large for the API, are skipped and said so`,
		},
		{ name: 'From Input Binary Field', value: 'named', description: 'The file (or files, separated by commas) in the fields named below' },
	],
	default: 'named',
});

export const binaryFieldHint =
	'One field, or several separated by commas (attachment_0, attachment_1); {{ $binary.attachment_0 }} works too. Form Trigger: the file field\'s label (Image). Gmail/IMAP: attachment_0, ... For every file of a form or an email, set "Files" to "Every Image of the Item".';

export const includeInputFieldsOption: INodeProperties = {
	displayName: 'Include Other Input Fields',
	name: 'includeInputFields',
	type: 'boolean',
	default: false,
	description: "Whether to keep the input item's own fields (an email's subject and sender, a form's answers) beside the result. The result's fields win where names clash.",
};

/**
 * What an AI agent's model is told about the tool, per operation: shown only in the Tool variant (n8n adds its own
 * "Tool Description" only to nodes that have no such property), so the plain node is unchanged.
 */
export const toolDescriptionParameter = (text: string): INodeProperties => ({
	displayName: 'Tool Description',
	name: 'toolDescription',
	type: 'string',
	typeOptions: { rows: 4 },
	default: text,
	description: 'What the AI model is told about this tool: what to pass, what comes back, what it costs',
	displayOptions: { show: { '@tool': [true] } },
});

/** The same parameter with another default in the Tool variant (n8n's `@tool` display option), the plain node keeping its own. */
export function withToolDefault(property: INodeProperties, toolDefault: INodeProperties['default']): INodeProperties[] {
	const show = property.displayOptions?.show ?? {};
	return [
		{ ...property, displayOptions: { ...property.displayOptions, show: { ...show, '@tool': [false] } } },
		{ ...property, default: toolDefault, displayOptions: { ...property.displayOptions, show: { ...show, '@tool': [true] } } },
	];
}
