-- Worker: the frequency z reads which band edge cannot be crossed from the pattern window (a band ending past it)
-- instead of repeating private.frequency_band's last edge (91 days). Same values.

create or replace function private.mean_in_band_z(
  p_mean numeric, p_sd numeric, p_n numeric, p_min numeric, p_max numeric
)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select greatest(-8, least(8, least(case when p_min > 0 then p_mean - p_min else 'infinity' end,
                                     case when p_max <= extract(day from private.pattern_recency())
                                          then p_max - p_mean else 'infinity' end)
         / (greatest(coalesce(p_sd, p_mean), 1) * sqrt(2 / p_n))));
$$;
revoke all on function private.mean_in_band_z(numeric, numeric, numeric, numeric, numeric)
  from public, anon, authenticated, service_role;
