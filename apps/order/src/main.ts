import './tracing';
import 'reflect-metadata';
import { runApp } from '@lib/platform';
import { OrderConfig } from './config';
import { OrderModule } from './order.module';

void runApp('order', OrderConfig, (config) => OrderModule.forRoot(config));
