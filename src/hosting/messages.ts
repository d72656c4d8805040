// What the page and the service worker say to each other.

import type { WeightsStatus } from './weights-cache';

export type ToServiceWorker = { type: 'weights/status?' };

export type FromServiceWorker = { type: 'weights/status'; status: WeightsStatus };
