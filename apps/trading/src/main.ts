import './tracing';
import 'reflect-metadata';
import { runApp } from '@lib/platform';
import { TradingConfig } from './config';
import { TradingModule } from './trading.module';

void runApp('trading', TradingConfig, (config) => TradingModule.forRoot(config));
