-- Worker: the brand's confidence is calibrated where its claims are kept (issue 10). Its logistic mapping, fitted
-- on every candidate (most of them unlikely), was under-confident at the top: on the holdout brand claims at 0.83
-- validated 0.88 (ECE 0.053). The constants are now fitted by benchmarks/calibrate.py on two training windows
-- pooled (Jan-Mar -> Apr-Jun, Jan-Jun -> Jul-Sep) and refitted on the candidates the fit gives >= 0.3; the same
-- method one window earlier, applied to Jul-Sep, validated 0.915 at a mean probability of 0.915 (ECE 0.000).
-- The favourite's constants are unchanged.

create or replace function private.claim_model(p_claim text)
returns table (b0 numeric, b1 numeric, b2 numeric, b3 numeric, min_probability numeric)
language sql
immutable
set search_path = ''
as $$
  select m.b0, m.b1, m.b2, m.b3, m.min_probability
    from (values
      -- claim,               b0,     b1,     b2,     b3,   floor    x1, x2, x3; fit: candidates, validated -> kept, validated
      ('favorite',           -1.690,  0.118,  2.079, -0.527, 0.85),  -- ln(1+days bought in 90 d), ln(1+days bought per 90 d of history), months since last; 45925, 0.538 -> 4218, 0.904
      ('brand',              -4.103,  0.773,  3.536, -0.251, 0.86)   -- ln(1+days chosen per 90 d of history), share of its categories' days, months since last; 107521, 0.320 -> 654, 0.907
      -- Favourites: fitted on all 2,469 households (learn < 2017-07-01, validate on Jul-Sep). The same fit one
      -- quarter earlier, applied to these claims, validates 0.921 (ECE 0.027): the floor holds out of time.
      -- Brands: the windows Jan-Mar -> Apr-Jun and Jan-Jun -> Jul-Sep pooled, then refitted (Platt) on the
      -- candidates it gives >= 0.3, where claims are decided: fitted on every candidate the logit was
      -- under-confident at the top (kept claims at 0.83 validated 0.88-0.90). The same method on windows validated
      -- before July, applied to the Jul-Sep claims, keeps 153 that validate 0.915 at a mean probability of 0.915.
      -- Not derived, because on the benchmark's holdout they did not beat the naive baseline (benchmarks/RESULTS.md):
      -- dietary:vegetarian (no floor reaches 0.90: 119 candidates validate 0.563; on the holdout 0 of 2),
      -- pattern:time_of_day, pattern:frequency and pattern:basket_size (each the same bucket as plain counting on the
      -- same shoppers: difference 0), day_of_week (2191 candidates validate 0.277) and category_preference (29060,
      -- 0.102).
    ) as m (claim, b0, b1, b2, b3, min_probability)
   where m.claim = p_claim;
$$;
revoke all on function private.claim_model(text) from public, anon, authenticated, service_role;
