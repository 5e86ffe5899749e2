import type { INodeProperties } from 'n8n-workflow';

import type { Operation } from '../operation';
import { bulkDetect } from './bulkDetect.operation';
import { detect } from './detect.operation';
import { downloadHeatmap } from './downloadHeatmap.operation';
import { downloadPreview } from './downloadPreview.operation';
import { getResult } from './getResult.operation';

export const imageOperations: Record<string, Operation> = { detect, bulkDetect, getResult, downloadHeatmap, downloadPreview };

export const imageDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['image'] } },
		options: [
			{
				name: 'Bulk Detect',
				value: 'bulkDetect',
				action: 'Bulk detect AI images',
				description: 'Check up to 50 images per request, from a ZIP or from the input items',
			},
			{
				name: 'Detect',
				value: 'detect',
				action: 'Detect an AI image',
				description: 'Check whether an image is AI-generated',
			},
			{
				name: 'Download Heatmap',
				value: 'downloadHeatmap',
				action: 'Download a heatmap',
				description: 'Get the heatmap of a checked image as a file',
			},
			{
				name: 'Download Preview',
				value: 'downloadPreview',
				action: 'Download a preview',
				description: 'Get the preview of a checked image as a file',
			},
			{
				name: 'Get Result',
				value: 'getResult',
				action: 'Get a detection result',
				description: 'Get the result of an image or a bulk batch by its ID',
			},
		],
		default: 'detect',
	},
	...detect.description,
	...bulkDetect.description,
	...getResult.description,
	...downloadHeatmap.description,
	...downloadPreview.description,
];
