import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  EventEnvelope,
  TradingStrategyDeployRequestedV1,
  TradingStrategyStopRequestedV1,
} from '@lib/contracts';
import { Inbox, JetStreamContext } from '@lib/messaging';
import { withLogContext } from '@lib/observability';
import { StrategiesService } from './strategies.service';
import { StrategyCommand } from './strategy.state';

type CommandEvent = EventEnvelope<{ strategyId: string }>;

/** Deploy and stop, carried out by whichever instance receives them, once each (inbox). */
@Controller()
export class StrategyCommandsConsumer {
  constructor(
    private readonly inbox: Inbox,
    private readonly strategies: StrategiesService,
  ) {}

  @EventPattern(TradingStrategyDeployRequestedV1.subject)
  deploy(@Payload() event: CommandEvent, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply(event, context, 'deploy');
  }

  @EventPattern(TradingStrategyStopRequestedV1.subject)
  stop(@Payload() event: CommandEvent, @Ctx() context: JetStreamContext): Promise<void> {
    return this.apply(event, context, 'stop');
  }

  private apply(
    event: CommandEvent,
    context: JetStreamContext,
    command: StrategyCommand,
  ): Promise<void> {
    return withLogContext({ strategyId: event.payload.strategyId }, () =>
      this.inbox.handleOnce(context, event, (manager) =>
        this.strategies.apply(manager, event, command),
      ),
    );
  }
}
