namespace HeadTracker.Runtime;

/// <summary>Version of the runtime library.</summary>
public static class RuntimeInfo
{
    /// <summary>The library version.</summary>
    public const string Version = "0.1.0";
}
