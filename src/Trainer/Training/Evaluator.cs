using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracker.Runtime.Models;
using HeadTracker.Trainer.Data;
using HeadTracker.Trainer.Models;
using HeadTracker.Trainer.Models.Backbones;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace HeadTracker.Trainer.Training;

/// <summary>Measures an exported model the way the runtime will run it: ONNX Runtime on the
/// file, inputs prepared from the model's own manifest, the trainer's metrics.</summary>
internal static class Evaluator
{
    /// <exception cref="InvalidDataException">The file has no HeadTracker manifest, or its
    /// manifest names an output kind the trainer does not know.</exception>
    public static IReadOnlyDictionary<string, double> Run(string modelPath, IReadOnlyList<DataItem> items, int batchSize, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{modelPath}: not a model ONNX Runtime can load: {e.Message}", e);
        }

        using (session)
        {
            if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(ModelManifest.MetadataKey, out string? json))
            {
                throw new InvalidDataException($"{modelPath}: no '{ModelManifest.MetadataKey}' metadata: not a model exported by headtracker-train");
            }

            ModelManifest manifest;
            try
            {
                manifest = ModelManifest.FromJson(json);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{modelPath}: {e.Message}", e);
            }

            var config = new ModelConfig
            {
                Heads = [.. manifest.Outputs.Select(o => new HeadConfig
                {
                    Kind = o.Kind switch
                    {
                        "point" => "center",
                        "keypoints" or "box" or "pose" or "class" or "mask" => o.Kind,
                        _ => throw new InvalidDataException($"{modelPath}: output '{o.Name}' has kind '{o.Kind}', which eval does not measure"),
                    },
                    Name = o.Name,
                    KeypointNames = o.KeypointNames,
                    ClassNames = o.ClassNames,
                    MultiLabel = o.MultiLabel ?? false,
                })],
            };
            int size = (int)manifest.Input.Shape[2];
            var pre = new Preprocessing(size, (int)manifest.Input.Shape[3], manifest.Input.Scale, manifest.Input.Mean, manifest.Input.Std);
            string[] classes = manifest.Outputs.FirstOrDefault(o => o.Kind == "class")?.ClassNames ?? [];
            var batcher = new Batcher(items, config, pre, classes);
            var metrics = new Objective.Metrics(config);
            foreach (Batch batch in batcher.Epoch(batchSize, 0, 0, AugmentOptions.None, shuffle: false))
            {
                using var scope = NewDisposeScope();
                var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(batch.Images, [batch.Count, 3, size, size]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor(manifest.Input.Name, input)]);
                var byName = results.ToDictionary(r => r.Name, r => r.AsTensor<float>());
                Tensor[] outputs = [.. manifest.Outputs.Select(o =>
                {
                    var t = byName[o.Name];
                    return tensor(t.ToArray(), [.. t.Dimensions.ToArray().Select(d => (long)d)]);
                })];
                metrics.Add(outputs, batch);
            }

            return metrics.Values;
        }
    }
}
