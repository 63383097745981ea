/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preferredSpatialLayer, spatialLayersOf } from './layers.ts';

test('a tile gets the smallest layer at least as wide as it; large tiles and screens the top', () => {
  const view = (width: number, large = false) => ({ visible: true, width, large });
  assert.equal(preferredSpatialLayer(view(200), 3, 960), 0, '240 px layer');
  assert.equal(preferredSpatialLayer(view(241), 3, 960), 1, '480 px layer');
  assert.equal(preferredSpatialLayer(view(480), 3, 960), 1);
  assert.equal(preferredSpatialLayer(view(700), 3, 960), 2);
  assert.equal(preferredSpatialLayer(view(2000), 3, 960), 2, 'nothing wider than the top');
  assert.equal(preferredSpatialLayer(view(100, true), 3, 960), 2, 'maximised');
  assert.equal(preferredSpatialLayer(view(100), 2, 960), 0, 'two layers: 480 and 960');
  assert.equal(preferredSpatialLayer(view(100), 1, 960), 0);
});

test('the number of spatial layers comes from the consumer scalability mode', () => {
  assert.equal(spatialLayersOf({ encodings: [{ scalabilityMode: 'L3T3' }] }), 3);
  assert.equal(spatialLayersOf({ encodings: [{ scalabilityMode: 'S2T1' }] }), 2);
  assert.equal(spatialLayersOf({ encodings: [{}] }), 1);
  assert.equal(spatialLayersOf({}), 1);
});
