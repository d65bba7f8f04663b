export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      customer_preferences: {
        Row: {
          confidence: number
          created_at: string
          evidence: Json | null
          id: string
          last_confirmed_at: string | null
          pending_removal: Json | null
          preference_key: string
          preference_type: string
          preference_value: string | null
          reason: string | null
          source: string
          times_confirmed: number
          updated_at: string
          user_id: string
        }
        Insert: {
          confidence?: number
          created_at?: string
          evidence?: Json | null
          id?: string
          last_confirmed_at?: string | null
          pending_removal?: Json | null
          preference_key: string
          preference_type: string
          preference_value?: string | null
          reason?: string | null
          source?: string
          times_confirmed?: number
          updated_at?: string
          user_id: string
        }
        Update: {
          confidence?: number
          created_at?: string
          evidence?: Json | null
          id?: string
          last_confirmed_at?: string | null
          pending_removal?: Json | null
          preference_key?: string
          preference_type?: string
          preference_value?: string | null
          reason?: string | null
          source?: string
          times_confirmed?: number
          updated_at?: string
          user_id?: string
        }
        Relationships: []
      }
      interaction_history: {
        Row: {
          created_at: string
          id: string
          interaction_key: string | null
          interaction_type: string
          interaction_value: NonNullable<Json>
          message_id: string | null
          session_id: string | null
          user_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          interaction_key?: string | null
          interaction_type: string
          interaction_value?: NonNullable<Json>
          message_id?: string | null
          session_id?: string | null
          user_id: string
        }
        Update: {
          created_at?: string
          id?: string
          interaction_key?: string | null
          interaction_type?: string
          interaction_value?: NonNullable<Json>
          message_id?: string | null
          session_id?: string | null
          user_id?: string
        }
        Relationships: []
      }
      memory_insights: {
        Row: {
          confidence: number
          created_at: string
          ended: Json | null
          expires_at: string | null
          id: string
          insight_key: string
          insight_type: string
          insight_value: string
          source: string
          status: string
          supporting_data: NonNullable<Json>
          updated_at: string
          user_id: string
        }
        Insert: {
          confidence?: number
          created_at?: string
          ended?: Json | null
          expires_at?: string | null
          id?: string
          insight_key: string
          insight_type: string
          insight_value: string
          source?: string
          status?: string
          supporting_data?: NonNullable<Json>
          updated_at?: string
          user_id: string
        }
        Update: {
          confidence?: number
          created_at?: string
          ended?: Json | null
          expires_at?: string | null
          id?: string
          insight_key?: string
          insight_type?: string
          insight_value?: string
          source?: string
          status?: string
          supporting_data?: NonNullable<Json>
          updated_at?: string
          user_id?: string
        }
        Relationships: []
      }
      shopping_patterns: {
        Row: {
          confidence: number
          created_at: string
          id: string
          last_occurrence: string
          occurrence_count: number
          pattern_key: string
          pattern_type: string
          pattern_value: NonNullable<Json>
          updated_at: string
          user_id: string
        }
        Insert: {
          confidence?: number
          created_at?: string
          id?: string
          last_occurrence?: string
          occurrence_count?: number
          pattern_key: string
          pattern_type: string
          pattern_value?: NonNullable<Json>
          updated_at?: string
          user_id: string
        }
        Update: {
          confidence?: number
          created_at?: string
          id?: string
          last_occurrence?: string
          occurrence_count?: number
          pattern_key?: string
          pattern_type?: string
          pattern_value?: NonNullable<Json>
          updated_at?: string
          user_id?: string
        }
        Relationships: []
      }
    }
    Views: {
      my_memories: {
        Row: {
          confidence: number | null
          created_at: string | null
          details: Json | null
          evidence_count: number | null
          expires_at: string | null
          id: string | null
          last_confirmed_at: string | null
          memory_key: string | null
          memory_kind: string | null
          memory_type: string | null
          pending_change: Json | null
          reason: string | null
          source: string | null
          status: string | null
          summary: string | null
          updated_at: string | null
        }
        Relationships: []
      }
    }
    Functions: {
      answer_insight_question: {
        Args: { answer: boolean; memory_id: string }
        Returns: Json
      }
      clear_memories: { Args: Record<PropertyKey, never>; Returns: Json }
      confirm_pending_change: { Args: { memory_id: string }; Returns: Json }
      explain_memory: { Args: { memory_id: string }; Returns: Json }
      export_memories: { Args: Record<PropertyKey, never>; Returns: Json }
      export_memories_page: {
        Args: { after?: string; max_rows?: number }
        Returns: Json
      }
      forget_memory: { Args: { memory_id: string }; Returns: Json }
      memory_context: {
        Args: { min_confidence?: number; query?: string }
        Returns: Json
      }
      my_order_figures: { Args: Record<PropertyKey, never>; Returns: Json }
      record_cart_add: {
        Args: { item: Json; session_id?: string }
        Returns: string
      }
      record_checkout: { Args: { checkout: Json }; Returns: string }
      record_interaction: {
        Args: {
          interaction_key?: string
          interaction_type: string
          interaction_value?: Json
          message_id?: string
          session_id?: string
        }
        Returns: string
      }
      record_interactions: { Args: { events: Json }; Returns: number }
      record_message: {
        Args: { content: string; message_id?: string; session_id?: string }
        Returns: string
      }
      record_swap: {
        Args: {
          accepted: boolean
          original: Json
          reason?: string
          replacement: Json
        }
        Returns: string
      }
      reject_pending_change: { Args: { memory_id: string }; Returns: Json }
      remember_preference: {
        Args: {
          preference_key: string
          preference_type: string
          preference_value?: string
          reason?: string
        }
        Returns: string
      }
      worker_apply_stated_preferences: {
        Args: {
          p_extractor: string
          p_interaction_id: string
          p_statements: Json
          p_user_id: string
        }
        Returns: number
      }
      worker_archive_interactions: {
        Args: { p_batch?: number; p_months: number; p_now?: string }
        Returns: number
      }
      worker_claim_jobs: {
        Args: {
          p_busy_seconds?: number
          p_lease_seconds: number
          p_limit: number
          p_worker: string
          p_worker_pid?: number
        }
        Returns: {
          attempts: number
          job_id: number
          kind: string
          user_id: string
        }[]
      }
      worker_complete_job: {
        Args: { p_job_id: number; p_worker: string }
        Returns: boolean
      }
      worker_enqueue_all: { Args: Record<PropertyKey, never>; Returns: number }
      worker_enqueue_maintenance: { Args: { p_kind: string }; Returns: boolean }
      worker_expire_insights: { Args: { p_now?: string }; Returns: number }
      worker_extend_leases: {
        Args: { p_job_ids: number[]; p_lease_seconds: number; p_worker: string }
        Returns: number
      }
      worker_fail_job: {
        Args: {
          p_base_seconds?: number
          p_error: string
          p_job_id: number
          p_max_attempts: number
          p_worker: string
        }
        Returns: string
      }
      worker_pending_messages: {
        Args: { p_limit?: number; p_user_id: string }
        Returns: {
          content: string
          created_at: string
          interaction_id: string
        }[]
      }
      worker_purge_finished: {
        Args: { p_keep_seconds?: number }
        Returns: number
      }
      worker_recompute_user: {
        Args: { p_now?: string; p_user_id: string }
        Returns: Json
      }
      worker_refresh_brand_catalog: {
        Args: Record<PropertyKey, never>
        Returns: number
      }
      worker_refresh_context: { Args: { p_user_id: string }; Returns: boolean }
      worker_refresh_pattern_population: {
        Args: { p_min_shoppers?: number; p_now?: string }
        Returns: number
      }
      worker_refresh_stale_contexts: {
        Args: { p_limit?: number }
        Returns: number
      }
      worker_release_job: {
        Args: { p_job_id: number; p_worker: string }
        Returns: boolean
      }
      worker_requeue_expired: {
        Args: { p_max_attempts: number }
        Returns: number
      }
      worker_skip_message: {
        Args: {
          p_extractor: string
          p_interaction_id: string
          p_problem: string
          p_user_id: string
        }
        Returns: boolean
      }
      worker_try_periodic: {
        Args: { p_interval_seconds: number; p_name: string; p_worker: string }
        Returns: boolean
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

