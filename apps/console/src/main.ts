import 'reflect-metadata';
import { runApp } from '@lib/platform';
import { ConsoleConfig } from './config';
import { createConsoleApp } from './console-app';
import { ConsoleModule } from './console.module';

void runApp('console', ConsoleConfig, (config) => ConsoleModule.forRoot(config), createConsoleApp);
