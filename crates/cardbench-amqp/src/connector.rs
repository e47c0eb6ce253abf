//! [`AmqpConnector`]: the `Connector` for Service Bus (or any AMQP 1.0 broker).

use std::sync::Arc;

use async_trait::async_trait;
use cardbench_transport::{Connector, QueueReceiver, QueueSender, TransportError};

use crate::config::ServiceBusConfig;
use crate::deadletter::DeadLetterBrowser;
use crate::link::AmqpSender;
use crate::receiver::AmqpReceiver;

/// Cheap to clone; every `receiver()` / `sender()` opens its own connection, so after a failure
/// the caller drops the broken end and asks for a new one (with its own backoff).
#[derive(Debug, Clone)]
pub struct AmqpConnector {
    config: Arc<ServiceBusConfig>,
}

impl AmqpConnector {
    /// Does not connect: the first `receiver()`/`sender()` does. Use
    /// [`crate::check_connection`] to test a configuration step by step.
    pub fn new(config: ServiceBusConfig) -> Self {
        AmqpConnector { config: Arc::new(config) }
    }

    pub fn config(&self) -> &ServiceBusConfig {
        &self.config
    }

    /// The concrete receiver (for `receive_raw` and `close`). Receivers log in with the inbound
    /// (receiving side's) credential, [`ServiceBusConfig::inbound_auth`].
    pub async fn open_receiver(&self, queue: &str) -> Result<AmqpReceiver, TransportError> {
        Ok(AmqpReceiver::open(&self.config, self.config.address(queue), self.config.credit, self.config.max_locked).await?)
    }

    /// Senders log in with the outbound (sending side's) credential,
    /// [`ServiceBusConfig::outbound_auth`]: NGOC grants Send on the outbound queue only.
    pub async fn open_sender(&self, queue: &str) -> Result<AmqpSender, TransportError> {
        Ok(AmqpSender::open(&self.config.sending(), self.config.address(queue)).await?)
    }

    /// Browses `queue`'s dead-letter queue (address from the config's dead-letter suffix).
    /// Connects only when first used.
    pub fn dead_letters(&self, queue: &str) -> DeadLetterBrowser {
        DeadLetterBrowser::new(self.clone(), queue)
    }
}

#[async_trait]
impl Connector for AmqpConnector {
    async fn receiver(&self, queue: &str) -> Result<Box<dyn QueueReceiver>, TransportError> {
        Ok(Box::new(self.open_receiver(queue).await?))
    }
    async fn sender(&self, queue: &str) -> Result<Box<dyn QueueSender>, TransportError> {
        Ok(Box::new(self.open_sender(queue).await?))
    }
    fn describe(&self) -> String {
        self.config.describe()
    }
}
