using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using Microsoft.ML.OnnxRuntime;

namespace HeadTracking.Trainer.Training;

/// <summary>Measures an exported model the way the runtime will run it: ONNX Runtime on the
/// file, inputs prepared from the model's own manifest, the trainer's metrics.</summary>
internal static class Evaluator
{
    /// <exception cref="InvalidDataException">The file has no HeadTracker manifest, or its
    /// manifest names an output kind the trainer does not know.</exception>
    public static IReadOnlyDictionary<string, double> Run(string modelPath, IReadOnlyList<DataItem> items, int batchSize, int threads, double threshold = 0.5)
    {
        using var model = new ExportedModel(modelPath, threads);
        var metrics = new Objective.Metrics(model.Config, threshold);
        foreach ((Batch batch, float[][] outputs) in model.Predict(items, batchSize))
        {
            metrics.Add(outputs, batch);
        }

        return metrics.Values;
    }
}

/// <summary>An exported model in ONNX Runtime, with the trainer's view of its heads (rebuilt
/// from its manifest) and batches prepared as the trainer prepares validation batches.</summary>
internal sealed class ExportedModel : IDisposable
{
    private readonly InferenceSession _session;

    /// <exception cref="InvalidDataException">Not a model ONNX Runtime loads, no HeadTracker
    /// manifest, or an output kind the trainer does not know; the message names the file.</exception>
    public ExportedModel(string modelPath, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{modelPath}: not a model ONNX Runtime can load: {e.Message}", e);
        }

        try
        {
            if (!_session.ModelMetadata.CustomMetadataMap.TryGetValue(ModelManifest.MetadataKey, out string? json))
            {
                throw new InvalidDataException($"{modelPath}: no '{ModelManifest.MetadataKey}' metadata: not a model exported by headtracker-train");
            }

            try
            {
                Manifest = ModelManifest.FromJson(json);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{modelPath}: {e.Message}", e);
            }

            Config = new ModelConfig
            {
                Heads = [.. Manifest.Outputs.Select(o => new HeadConfig
                {
                    Kind = o.Kind switch
                    {
                        "point" => "center",
                        "keypoints" or "box" or "pose" or "class" or "mask" or "value" => o.Kind,
                        _ => throw new InvalidDataException($"{modelPath}: output '{o.Name}' has kind '{o.Kind}', which eval does not measure"),
                    },
                    Name = o.Name,
                    KeypointNames = o.KeypointNames,
                    ClassNames = o.ClassNames,
                    ValueNames = o.ValueNames,
                    MultiLabel = o.MultiLabel ?? false,
                    Frame = o.Kind == "pose" ? o.Frame ?? "camera" : null,
                })],
            };
            Size = (int)Manifest.Input.Shape[2];
            Preprocessing = new Preprocessing(Size, (int)Manifest.Input.Shape[3], Manifest.Input.Scale, Manifest.Input.Mean, Manifest.Input.Std);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public ModelManifest Manifest { get; }

    /// <summary>The heads as the trainer describes them (class names, codes, value names).</summary>
    public ModelConfig Config { get; }

    public Preprocessing Preprocessing { get; }

    public int Size { get; }

    /// <summary>The class head's names, or none.</summary>
    public string[] Classes => Manifest.Outputs.FirstOrDefault(o => o.Kind == "class")?.ClassNames ?? [];

    /// <summary>Each batch of <paramref name="items"/> (letterboxed, not augmented, in order) with
    /// every head's output as a flat array, in head order.</summary>
    public IEnumerable<(Batch Batch, float[][] Outputs)> Predict(IReadOnlyList<DataItem> items, int batchSize)
    {
        var batcher = new Batcher(items, Config, Preprocessing, Classes);
        foreach (Batch batch in batcher.Epoch(batchSize, 0, 0, AugmentOptions.None, shuffle: false))
        {
            var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(batch.Images, [batch.Count, 3, Size, Size]);
            using var results = _session.Run([NamedOnnxValue.CreateFromTensor(Manifest.Input.Name, input)]);
            var byName = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            yield return (batch, [.. Manifest.Outputs.Select(o => byName[o.Name])]);
        }
    }

    public void Dispose() => _session.Dispose();
}
