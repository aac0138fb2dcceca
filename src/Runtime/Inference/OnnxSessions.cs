using System;
using System.IO;
using Microsoft.ML.OnnxRuntime;

namespace HeadTracking.Runtime.Inference;

/// <summary>Opens ONNX Runtime sessions the way a game wants them: sequential, fully optimised,
/// a set number of threads, quiet, and errors that name the file.</summary>
internal static class OnnxSessions
{
    /// <param name="path">The ONNX file.</param>
    /// <param name="intraOpThreads">Threads inside one inference.</param>
    /// <param name="configure">Further settings (execution providers) before the session opens.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load it; the message names the file.</exception>
    public static InferenceSession Open(string path, int intraOpThreads, Action<SessionOptions>? configure = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model not found: {path}", path);
        }

        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            // Exports from other tools (BlazeFace's) carry unused initializers ORT warns about at every load.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        configure?.Invoke(options);
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: not a model ONNX Runtime can load: {e.Message}", e);
        }
    }
}
