import type { INodeProperties } from 'n8n-workflow';

import type { Operation } from '../common';
import { assetDescription, downloadAsset } from './download';

export const description: INodeProperties[] = assetDescription('preview');

export const downloadPreview: Operation = {
	description,
	execute: async (run, itemIndex) => downloadAsset(run, itemIndex, 'preview'),
};
