//! Staffing and forecasting arithmetic for the digest: Erlang C and a trend forecast.

/// Probability that an arrival waits at all in an M/M/c queue (Erlang C), for offered load
/// `a` = arrival rate / service rate and `c` responders. 1.0 when the queue is unstable.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 || a >= c as f64 {
        return 1.0;
    }
    // Sum a^k/k! iteratively to stay stable for large c.
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let top = term * a / c as f64 * (c as f64 / (c as f64 - a));
    top / (sum + top)
}

/// The fewest responders so that at least `service_level` of questions get a first response
/// within `target_hours`, at `arrivals_per_hour` and `handling_hours` of work per question.
/// None when there is no traffic to staff for.
pub fn responders_needed(arrivals_per_hour: f64, handling_hours: f64, target_hours: f64, service_level: f64) -> Option<u32> {
    if arrivals_per_hour <= 0.0 || handling_hours <= 0.0 {
        return None;
    }
    let mu = 1.0 / handling_hours;
    let a = arrivals_per_hour / mu;
    (1..=10_000).find(|&c| {
        let waits = erlang_c(c, a);
        let within = 1.0 - waits * (-(c as f64 * mu - arrivals_per_hour) * target_hours).exp();
        a < c as f64 && within >= service_level
    })
}

/// Next period's volume from past periods' volumes (oldest first): Holt's linear trend
/// (level and slope smoothed at 0.5 and 0.3), never below zero. None without history.
pub fn forecast_next(history: &[f64]) -> Option<f64> {
    let (&first, rest) = history.split_first()?;
    let (alpha, beta) = (0.5, 0.3);
    let mut level = first;
    let mut trend = rest.first().map(|&second| second - first).unwrap_or(0.0);
    for &x in rest {
        let previous = level;
        level = alpha * x + (1.0 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1.0 - beta) * trend;
    }
    Some((level + trend).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_the_textbook_example() {
        // 2 agents, offered load 1 Erlang: C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(erlang_c(1, 1.5), 1.0, "an overloaded queue always waits");
    }

    #[test]
    fn more_traffic_needs_more_responders() {
        let light = responders_needed(2.0, 0.25, 1.0, 0.8).unwrap();
        let heavy = responders_needed(40.0, 0.25, 1.0, 0.8).unwrap();
        assert!(light >= 1 && heavy > light, "{light} {heavy}");
        // 40 questions/hour at 15 minutes each is 10 hours of work an hour: more than 10 people.
        assert!(heavy > 10);
        assert_eq!(responders_needed(0.0, 0.25, 1.0, 0.8), None);
    }

    #[test]
    fn the_forecast_follows_a_trend_and_a_flat_line() {
        assert_eq!(forecast_next(&[]), None);
        assert!((forecast_next(&[50.0; 6]).unwrap() - 50.0).abs() < 1e-9);
        let rising = forecast_next(&[10.0, 20.0, 30.0, 40.0]).unwrap();
        assert!(rising > 40.0, "{rising}");
        assert_eq!(forecast_next(&[40.0, 20.0, 0.0]).unwrap(), 0.0);
    }
}
