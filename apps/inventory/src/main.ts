import './tracing';
import 'reflect-metadata';
import { runApp } from '@lib/platform';
import { InventoryConfig } from './config';
import { InventoryModule } from './inventory.module';

void runApp('inventory', InventoryConfig, (config) => InventoryModule.forRoot(config));
