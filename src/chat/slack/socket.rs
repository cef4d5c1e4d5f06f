//! Socket Mode: the bot dials out to Slack (no public URL). slack-morphism acknowledges an
//! envelope only after our callback returns, and only if it returns Ok, so an event is always
//! recorded before Slack hears back; if recording fails, Slack redelivers it.

use super::SlackRuntime;
use super::events::{map_command, map_interaction, map_push_event};
use super::outgoing::WebClient;
use chrono::Utc;
use slack_morphism::prelude::*;
use std::sync::Arc;

pub type ConnectorType = SlackClientHyperConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>;

async fn runtime(states: &SlackClientEventsUserState) -> Option<Arc<SlackRuntime>> {
    states.read().await.get_user_state::<Arc<SlackRuntime>>().cloned()
}

async fn on_push(ev: SlackPushEventCallback, _c: Arc<WebClient>, states: SlackClientEventsUserState) -> UserCallbackResult<()> {
    let rt = runtime(&states).await.ok_or("no runtime")?;
    if let Some(incoming) = map_push_event(&ev, &rt.ctx, Utc::now()) {
        rt.accept(incoming).await?;
    }
    Ok(())
}

async fn on_command(ev: SlackCommandEvent, _c: Arc<WebClient>, states: SlackClientEventsUserState) -> UserCallbackResult<SlackCommandEventResponse> {
    let rt = runtime(&states).await.ok_or("no runtime")?;
    rt.accept(map_command(&ev, &rt.ctx, Utc::now())).await?;
    // The answer follows as an ephemeral message from the outbox.
    Ok(SlackCommandEventResponse::new(SlackMessageContent::new()))
}

async fn on_interaction(ev: SlackInteractionEvent, _c: Arc<WebClient>, states: SlackClientEventsUserState) -> UserCallbackResult<()> {
    let rt = runtime(&states).await.ok_or("no runtime")?;
    if let Some(incoming) = map_interaction(&ev, &rt.ctx, Utc::now()) {
        rt.accept(incoming).await?;
    }
    Ok(())
}

/// Anything that went wrong in a callback: logged, and the envelope stays unacknowledged.
fn on_error(err: Box<dyn std::error::Error + Send + Sync>, _c: Arc<WebClient>, _s: SlackClientEventsUserState) -> HttpStatusCode {
    tracing::error!(error = %crate::telemetry::chain(err.as_ref()), "a Slack Socket Mode event was not recorded; Slack will redeliver it");
    HttpStatusCode::INTERNAL_SERVER_ERROR
}

/// Connects and listens until the returned listener is shut down.
pub async fn start(
    client: Arc<WebClient>,
    app_token: &SlackApiToken,
    runtime: Arc<SlackRuntime>,
) -> anyhow::Result<SlackClientSocketModeListener<ConnectorType>> {
    let callbacks =
        SlackSocketModeListenerCallbacks::new().with_push_events(on_push).with_command_events(on_command).with_interaction_events(on_interaction);
    let env = Arc::new(SlackClientEventsListenerEnvironment::new(client).with_error_handler(on_error).with_user_state(runtime));
    let listener = SlackClientSocketModeListener::new(&SlackClientSocketModeConfig::new().with_max_connections_count(1), env, callbacks);
    listener.listen_for(app_token).await.map_err(|e| anyhow::anyhow!("Slack Socket Mode: could not connect with [slack] app_token: {e}"))?;
    listener.start().await;
    Ok(listener)
}
