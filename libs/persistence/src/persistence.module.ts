import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseRefusal } from './app-roles';
import { AppDataSourceOptions, bootAppDataSource, BootDatabaseOptions } from './data-source';

/** One TypeORM data source for the app, on its own schema, migrated before the app serves. */
@Module({})
export class PersistenceModule {
  static forRoot(options: AppDataSourceOptions, boot: BootDatabaseOptions): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          // A refusal stays one: retrying a superuser or an unmigrated schema changes nothing.
          useFactory: () => ({
            type: 'postgres',
            toRetry: (error: unknown) => !(error instanceof DatabaseRefusal),
          }),
          dataSourceFactory: () => bootAppDataSource(options, boot),
        }),
      ],
    };
  }
}
