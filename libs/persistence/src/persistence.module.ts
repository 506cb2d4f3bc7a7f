import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppDataSourceOptions, openAppDataSource } from './data-source';

/** One TypeORM data source for the app, on its own schema, migrated before the app serves. */
@Module({})
export class PersistenceModule {
  static forRoot(options: AppDataSourceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres' }),
          dataSourceFactory: () => openAppDataSource(options),
        }),
      ],
    };
  }
}
