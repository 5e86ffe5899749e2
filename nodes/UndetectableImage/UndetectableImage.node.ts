import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { accountDescription } from './actions/account';
import { imageDescription } from './actions/image';
import { router } from './actions/router';

export class UndetectableImage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Undetectable AI Image Detector',
		name: 'undetectableImage',
		icon: { light: 'file:../../icons/undetectableImage.svg', dark: 'file:../../icons/undetectableImage.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Detect AI-generated images with Undetectable.AI: single images, bulk ZIPs, heatmaps, previews and credits',
		defaults: { name: 'Undetectable AI Image Detector' },
		// The Tool variant's codex is rebuilt by n8n without our aliases, and the 2.8.4 editor finds tools by display
		// name alone: its name says "deepfake" too, so that search finds it there as well.
		usableAsTool: { replacements: { displayName: 'Undetectable AI Image & Deepfake Detector' } },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'undetectableImageApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Account', value: 'account' },
					{ name: 'Image', value: 'image' },
				],
				default: 'image',
			},
			...imageDescription,
			...accountDescription,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
