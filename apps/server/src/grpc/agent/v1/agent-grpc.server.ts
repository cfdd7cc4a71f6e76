import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Server, ServerDuplexStream } from '@grpc/grpc-js';
import { AgentMessage, AgentServiceService, EnrollmentServiceService, ServerMessage } from '@certfleet/proto';
import { AgentsService } from '../../../app/agents/agents.service';
import { IdentityRecoveryService } from '../../../app/agents/identity-recovery.service';
import { EndpointsService } from '../../../app/endpoints/endpoints.service';
import { EnrollmentService } from '../../../app/enrollment/enrollment.service';
import { FleetCaService } from '../../../app/fleet-ca/fleet-ca.service';
import { InventoryReportService } from '../../../app/inventory/inventory-report.service';
import { JobsService } from '../../../app/jobs/jobs.service';
import { ManagedCertificatesService } from '../../../app/managed/managed-certificates.service';
import { SERVER_CONFIG, ServerConfig } from '../../../config/server-config';
import { AgentSession, AgentSessionRegistry } from './agent-session';
import { enrollHandler } from './enrollment.handler';
import { recoverIdentityHandler } from './recover-identity.handler';
import { renewIdentityHandler } from './renew-identity.handler';
import { agentPortCredentials } from './tls-credentials';

/** The agent-facing gRPC endpoint (certfleet.agent.v1) over TLS with fleet-CA client certificates. */
@Injectable()
export class AgentGrpcServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentGrpc');
  private server?: Server;
  readonly sessions = new AgentSessionRegistry();
  /** The port actually bound (differs from config when config asks for port 0). */
  port = 0;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(FleetCaService) private readonly ca: FleetCaService,
    @Inject(EnrollmentService) private readonly enrollment: EnrollmentService,
    @Inject(AgentsService) private readonly agents: AgentsService,
    @Inject(IdentityRecoveryService) private readonly recovery: IdentityRecoveryService,
    @Inject(InventoryReportService) private readonly reports: InventoryReportService,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(ManagedCertificatesService) private readonly managed: ManagedCertificatesService,
    @Inject(EndpointsService) private readonly endpoints: EndpointsService,
  ) {
    const send = (agentId: string, message: ServerMessage): boolean => {
      const session = this.sessions.get(agentId);
      if (!session?.ready) return false;
      session.send(message);
      return true;
    };
    this.jobs.attachDelivery({ send });
    this.endpoints.attachDelivery({ send, connected: () => this.sessions.readyAgentIds() });
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = new Server({
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
    server.addService(EnrollmentServiceService, { enroll: enrollHandler(this.enrollment), recoverIdentity: recoverIdentityHandler(this.recovery) });
    const deps = {
      agents: this.agents,
      reports: this.reports,
      jobs: this.jobs,
      reconcile: (agentId: string) => this.managed.reconcileWithInventory(agentId),
      heartbeatIntervalSeconds: this.config.heartbeatIntervalSeconds,
      registry: this.sessions,
      endpoints: this.endpoints,
    };
    server.addService(AgentServiceService, {
      connect: (call: ServerDuplexStream<AgentMessage, ServerMessage>) => void new AgentSession(call, deps),
      renewIdentity: renewIdentityHandler(this.agents),
    });
    const { certificatePem, privateKeyPem } = this.ca.serverCredentials;
    // The chain includes the fleet CA so that enrolling agents can match it against their pin.
    const chainPem = `${certificatePem.trim()}\n${this.ca.caCertificatePem.trim()}\n`;
    const creds = agentPortCredentials(this.ca.caCertificatePem, chainPem, privateKeyPem);
    const address = `${this.config.grpc.host.includes(':') ? `[${this.config.grpc.host}]` : this.config.grpc.host}:${this.config.grpc.port}`;
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, creds, (err, port) => (err ? reject(new Error(`cannot listen for agents on ${address}: ${err.message}`)) : resolve(port))),
    );
    this.server = server;
    this.logger.log(`agent gRPC endpoint listening on ${this.config.grpc.host}:${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.sessions.closeAll();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 3000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
