import './tracing';
import 'reflect-metadata';
import { runApp } from '@lib/platform';
import { PaymentConfig } from './config';
import { PaymentModule } from './payment.module';

void runApp('payment', PaymentConfig, (config) => PaymentModule.forRoot(config));
