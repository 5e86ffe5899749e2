import type { INodeProperties } from 'n8n-workflow';

import { getCredits } from './getCredits.operation';

export const accountOperations = { getCredits };

export const accountDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['account'] } },
		options: [
			{
				name: 'Check Credits',
				value: 'getCredits',
				action: 'Check credits',
				description: 'Get the credits left on the account',
			},
		],
		default: 'getCredits',
	},
	...getCredits.description,
];
